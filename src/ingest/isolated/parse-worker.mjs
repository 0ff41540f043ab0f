// Entry point of a parse worker thread. Plain JavaScript on purpose: a worker cannot start from a `.ts` file here.
// Measured on Node 20 + tsx 4 + vitest 5: `new Worker("x.ts")` fails with "Unknown file extension .ts" both under
// `tsx` (its hooks are inherited through execArgv but do not apply to a worker's entry module) and under vitest (whose
// transformer never reaches worker threads at all; `execArgv: ["--import", "tsx"]` fails the same way). Registering
// tsx's ESM hooks from inside the worker, then importing the TypeScript body, works in both, so that is what this does.
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import { register } from "tsx/esm/api";

// pdf.js is loaded by Node itself BEFORE tsx is registered. Through tsx's hooks the same modules cost ~10x the heap
// (measured: 65 MB after importing pdf-parse and 240 MB after parsing one small PDF, against 7 MB and 35 MB natively),
// which would make a worker heap limit meaningless. The later `import "pdf-parse"` in pdf-loader.ts resolves to the
// same URL and reuses these instances. Importing pdf.js's worker module sets `globalThis.pdfjsWorker`, so pdf.js runs
// its "fake worker" in this thread from it instead of importing pdf.worker.mjs again later, through tsx.
const require = createRequire(import.meta.url);
const fromPdfParse = createRequire(require.resolve("pdf-parse"));
await import("pdf-parse");
await import(pathToFileURL(fromPdfParse.resolve("pdfjs-dist/legacy/build/pdf.worker.mjs")).href);

register();
await import("./parse-worker.ts");
