import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A certificate and key files made for one test run, and the certificate the clients trust. */
export interface TestCertificate {
  readonly certFile: string;
  readonly keyFile: string;
  /** The certificate (self-signed, so it is its own CA), for clients' `ca` options. */
  readonly ca: Buffer;
  /** Removes the files. */
  remove(): void;
}

/**
 * A self-signed P-256 certificate for `localhost` and 127.0.0.1, valid one
 * day, made by openssl in a temporary folder: what a developer makes for a
 * local TLS server, and what the server's TLS_CERT and TLS_KEY take.
 */
export function selfSignedCertificate(): TestCertificate {
  const dir = mkdtempSync(join(tmpdir(), "tls-cert-"));
  const certFile = join(dir, "cert.pem");
  const keyFile = join(dir, "key.pem");
  execFileSync(
    "openssl",
    [
      ...["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1"],
      ...["-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", keyFile, "-out", certFile],
    ],
    { stdio: "ignore" },
  );
  return { certFile, keyFile, ca: readFileSync(certFile), remove: () => rmSync(dir, { recursive: true, force: true }) };
}
