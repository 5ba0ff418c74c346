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
  // Its source map: the manifest static storage insists that referenced maps exist.
  [
    "node_modules/@google/model-viewer/dist/model-viewer.min.js.map",
    "static/vendor/model-viewer/model-viewer.min.js.map",
  ],
  // hls.js: the minified ES module build (imported on demand by livestream/js/player.js),
  // its transmuxer worker (loaded by URL: the CSP allows no blob: workers) and their
  // source maps (the manifest static storage insists that referenced maps exist).
  ["node_modules/hls.js/dist/hls.min.mjs", "static/vendor/hls/hls.min.mjs"],
  ["node_modules/hls.js/dist/hls.min.mjs.map", "static/vendor/hls/hls.min.mjs.map"],
  ["node_modules/hls.js/dist/hls.worker.js", "static/vendor/hls/hls.worker.js"],
  ["node_modules/hls.js/dist/hls.worker.js.map", "static/vendor/hls/hls.worker.js.map"],
  ["node_modules/hls.js/LICENSE", "static/vendor/hls/LICENSE"],
  // Chart.js: the self-contained UMD build (window.Chart) for the organisers' dashboard.
  ["node_modules/chart.js/dist/chart.umd.min.js", "static/vendor/chartjs/chart.umd.min.js"],
  ["node_modules/chart.js/dist/chart.umd.min.js.map", "static/vendor/chartjs/chart.umd.min.js.map"],
  ["node_modules/chart.js/LICENSE.md", "static/vendor/chartjs/LICENSE.md"],
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
