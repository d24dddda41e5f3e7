import * as http2 from "node:http2";
import type { Socket } from "node:net";
import type { RequestHandler } from "./http-handler.js";

type Request = Parameters<RequestHandler>[0];

/**
 * host [":" port] as RFC 3986 spells it: a bracketed IPv6 literal, or a name
 * or IPv4 address made of unreserved characters, sub-delims and %-escapes.
 * No user info, no path: nothing else belongs in Host or :authority.
 */
const authoritySyntax = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~!$&'()*+,;=%]+)(?::\d*)?$/;

/** Longest piece of a client's value quoted back in messages and logs. */
const quoteLimit = 100;

/**
 * Checks what identifies the request's target before connect-node sees it.
 *
 * connect-node builds every call's URL with `new URL(path, "http://" + authority)`
 * outside any try, so an authority or path that URL cannot parse (a port
 * over 65535, an empty Host, "[") throws out of the request handler and ends
 * the process; a request with no authority at all throws as well. Those are
 * refused here instead.
 *
 * Returns a message for the client when the request must be refused with
 * 400, else undefined. An HTTP/1.0 request without Host is served, as RFC
 * 9112 §3.3 says: its authority is the local address of the connection,
 * written into its headers for connect-node to read.
 */
export function checkRequestTarget(req: Request): string | undefined {
  let authority: string | undefined;
  let field: string;
  if (req instanceof http2.Http2ServerRequest) {
    // As Node and connect-node read it: :authority, else a Host header.
    authority = req.authority;
    field = ":authority";
    // RFC 9113 §8.3.1: "http" and "https" requests must name their authority.
    if (authority === undefined) return "HTTP/2 requests must carry an :authority (or Host) header";
  } else {
    field = "Host";
    let hostFields = 0;
    for (let i = 0; i < req.rawHeaders.length; i += 2) if (req.rawHeaders[i]?.toLowerCase() === "host") hostFields++;
    // RFC 9112 §3.2: a server must refuse both of these with 400.
    if (hostFields > 1) return "the request has more than one Host header";
    authority = req.headers.host;
    if (authority === undefined) {
      if (req.httpVersion !== "1.0") return `HTTP/${req.httpVersion} requests must carry a Host header`;
      authority = localAuthority(req.socket);
      req.headers.host = authority;
    }
  }
  if (authority === "") return `the ${field} header is empty; it must name the server as host[:port]`;
  if (authority !== lastPlainAuthority) {
    if (!authoritySyntax.test(authority) || !URL.canParse(`http://${authority}`)) {
      return `the ${field} header "${quote(authority)}" is not a valid host[:port] (a name or IP address, and a port from 0 to 65535)`;
    }
    lastPlainAuthority = authority;
  }
  const target = req.url ?? "";
  if (!plainPath(target) && !URL.canParse(target, `http://${authority}`))
    return `the request target "${quote(target)}" is not a valid path`;
  return undefined;
}

/**
 * A path from the root ("/…"; not "//…" or "/\…", which URL parsers read as
 * the start of an authority, and with no tab or line break, which they
 * delete first): it parses against any valid base, so it needs no parsing
 * to be found valid.
 */
const plainPathSyntax = /^\/(?![/\\])[^\t\n\r]*$/;

function plainPath(target: string): boolean {
  return plainPathSyntax.test(target);
}

/** The connection's own address as an authority: "127.0.0.1:8080", "[::1]:8080". */
function localAuthority(socket: Socket): string {
  const address = socket.localAddress ?? "localhost";
  return `${address.includes(":") ? `[${address}]` : address}:${socket.localPort ?? ""}`;
}

function quote(text: string): string {
  return text.length > quoteLimit ? `${text.slice(0, quoteLimit)}…` : text;
}

/** The last authority found valid, so a connection's streams are not each parsed again. */
let lastPlainAuthority = "";

/**
 * True when checkRequestTarget would find nothing wrong with this HTTP/2
 * authority and path (a path the fast path serves: no URL quirks possible).
 */
export function plainAuthority(authority: string, path: string): boolean {
  if (authority !== lastPlainAuthority) {
    if (authority === "" || !authoritySyntax.test(authority) || !URL.canParse(`http://${authority}`)) return false;
    lastPlainAuthority = authority;
  }
  return plainPath(path);
}
