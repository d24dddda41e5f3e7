import { promisify } from "node:util";
import { brotliCompress, constants } from "node:zlib";
import type { Compression } from "@connectrpc/connect/protocol";
import { compressionBrotli, compressionGzip } from "@connectrpc/connect-node";

const brotli = promisify(brotliCompress);

/**
 * The encodings the server accepts and answers with, for all three protocols,
 * in order of preference when a client accepts several. Brotli's default
 * quality (11) is meant for static files and costs tens of times more CPU
 * than quality 5, which compresses RPC payloads almost as well; decompression
 * (with its size limit) is connect-node's.
 */
export const compressions: readonly Compression[] = [
  compressionGzip,
  {
    name: compressionBrotli.name,
    compress: (bytes) => brotli(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 5 } }),
    decompress: compressionBrotli.decompress,
  },
];
