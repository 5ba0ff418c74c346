// Public catalogue pages: the 360° panorama (Pannellum), the product gallery and the
// Follow button's focus after an htmx swap. An ES module: no inline script (strict CSP).

// Pannellum (a classic script loaded with `defer` before this module) draws the
// equirectangular panorama named by data-panorama. It starts when the viewer scrolls into
// view, so a page with a large panorama costs nothing until someone looks at it.
function startPanorama(container) {
  if (container.dataset.panoramaStarted) return;
  container.dataset.panoramaStarted = "1";
  const fallback = container.querySelector(".panorama-fallback");
  try {
    window.pannellum.viewer(container, {
      type: "equirectangular",
      panorama: container.dataset.panorama,
      autoLoad: true,
      showControls: true,
      showFullscreenCtrl: true,
      mouseZoom: false, // the page keeps scrolling with the mouse wheel
      keyboardZoom: true,
      compass: false,
      hfov: 100,
    });
    if (fallback) fallback.remove();
    container.classList.add("panorama-ready");
  } catch (error) {
    container.dataset.panoramaStarted = "";
    console.warn("panorama viewer unavailable", error);
  }
}

function wirePanoramas() {
  const containers = document.querySelectorAll("[data-panorama]");
  if (!containers.length || !window.pannellum) return;
  if (!("IntersectionObserver" in window)) {
    containers.forEach(startPanorama);
    return;
  }
  const observer = new IntersectionObserver((entries) => {
    for (const entry of entries) {
      if (entry.isIntersecting) {
        observer.unobserve(entry.target);
        startPanorama(entry.target);
      }
    }
  }, { rootMargin: "200px" });
  containers.forEach((container) => observer.observe(container));
}

// Product gallery: the thumbnails are links to the full images (they work without
// JavaScript); with it, activating one shows it in the main frame.
function wireGalleries() {
  for (const gallery of document.querySelectorAll("[data-gallery]")) {
    const main = gallery.querySelector("[data-gallery-main]");
    if (!main) continue;
    gallery.addEventListener("click", (event) => {
      const thumb = event.target.closest("[data-gallery-thumb]");
      if (!thumb || event.ctrlKey || event.metaKey || event.shiftKey) return;
      event.preventDefault();
      main.src = thumb.href;
      main.alt = thumb.dataset.alt || "";
      if (thumb.dataset.width) {
        main.width = Number(thumb.dataset.width);
        main.height = Number(thumb.dataset.height);
      } else {
        main.removeAttribute("width");
        main.removeAttribute("height");
      }
      for (const other of gallery.querySelectorAll("[data-gallery-thumb]")) {
        other.removeAttribute("aria-current");
      }
      thumb.setAttribute("aria-current", "true");
    });
  }
}

// After htmx swaps the Follow box, keyboard focus returns to its new button.
function wireFollowFocus() {
  const refocus = (event) => {
    const box = event.detail && event.detail.target;
    if (!box || !box.id || !box.id.startsWith("follow-")) return;
    const fresh = document.getElementById(box.id);
    const button = fresh && fresh.querySelector("button");
    if (button && document.activeElement !== button) button.focus();
  };
  // htmx 2 fires these on the swapped element; listening on the document catches both the
  // old (outerHTML) and the new element's events.
  document.addEventListener("htmx:afterSwap", refocus);
  document.addEventListener("htmx:afterSettle", refocus);
}

// <model-viewer> stamps a <style> element into its shadow root, which the strict CSP
// (style-src 'self') blocks. The same rules applied as a constructed stylesheet (CSSOM, not
// governed by style-src) restore its layout without loosening the policy.
async function adoptModelViewerStyles() {
  if (!document.querySelector("model-viewer") || !window.customElements) return;
  await customElements.whenDefined("model-viewer");
  for (const viewer of document.querySelectorAll("model-viewer")) {
    const root = viewer.shadowRoot;
    if (!root || root.__cloudfairStyles) continue;
    const rules = [...root.querySelectorAll("style")].map((style) => style.textContent).join("\n");
    if (!rules) continue;
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(rules);
    root.adoptedStyleSheets = [...root.adoptedStyleSheets, sheet];
    root.__cloudfairStyles = true;
  }
}

// Pannellum is a deferred classic script; defer and module scripts run in document order,
// so it is there by now. The check covers a failed download.
wirePanoramas();
wireGalleries();
wireFollowFocus();
adoptModelViewerStyles().catch((error) => console.warn("model viewer styles", error));
