// The reference tus server of bench/uploads.py: @tus/server with @tus/file-store, as its README shows it.
//
//   node bench/tusd/server.mjs --port 18501 --directory /tmp/files [--host 127.0.0.1]
//
// Serves tus 1.0.0 at /files/ and prints one line "listening http://HOST:PORT/files/" once it accepts
// connections; SIGTERM or SIGINT closes it. Uploads are stored as files in --directory (one data file and
// one .json of metadata per upload), with no size limit.
import http from "node:http";
import { parseArgs } from "node:util";

import { FileStore } from "@tus/file-store";
import { Server } from "@tus/server";

const { values } = parseArgs({
  options: {
    host: { type: "string", default: "127.0.0.1" },
    port: { type: "string" },
    directory: { type: "string" },
  },
});
if (!values.port || !values.directory) {
  console.error("usage: node server.mjs --port PORT --directory DIR [--host HOST]");
  process.exit(2);
}

const tus = new Server({
  path: "/files",
  datastore: new FileStore({ directory: values.directory }),
});
const server = http.createServer((req, res) => tus.handle(req, res));
server.listen({ host: values.host, port: Number(values.port) }, () => {
  console.log(`listening http://${values.host}:${values.port}/files/`);
});

function stop() {
  server.close(() => process.exit(0));
  server.closeAllConnections();
}
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
