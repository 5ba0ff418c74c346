// Copies the browser builds of the npm front-end packages into static/vendor/ (git-ignored),
// where Django's static files pick them up. Run by `npm ci` (postinstall).
import { copyFileSync, mkdirSync, existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const files = [
  ["node_modules/htmx.org/dist/htmx.min.js", "static/vendor/htmx/htmx.min.js"],
  // Pannellum: a classic script defining window.pannellum, plus its stylesheet.
  ["node_modules/pannellum/build/pannellum.js", "static/vendor/pannellum/pannellum.js"],
  ["node_modules/pannellum/build/pannellum.css", "static/vendor/pannellum/pannellum.css"],
  ["node_modules/pannellum/COPYING", "static/vendor/pannellum/COPYING"],
  // <model-viewer>: the self-contained ES module build (three.js bundled in).
  [
    "node_modules/@google/model-viewer/dist/model-viewer.min.js",
    "static/vendor/model-viewer/model-viewer.min.js",
  ],
];

for (const [from, to] of files) {
  const source = join(root, from);
  if (!existsSync(source)) {
    console.error(`copy-vendor: ${from} is missing; run npm ci`);
    process.exit(1);
  }
  mkdirSync(dirname(join(root, to)), { recursive: true });
  copyFileSync(source, join(root, to));
  console.log(`copy-vendor: ${to}`);
}
