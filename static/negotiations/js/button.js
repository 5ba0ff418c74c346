// The "One-to-one negotiation" button (templates/negotiations/_negotiate_button.html), as an
// ES module. In a stream room it keeps the button's product in step with the product the
// exhibitor pins live: room.js dispatches a bubbling "livestream:frame" event for every frame
// of the room's socket, and "session.pinned" carries the pinned product's id (null: none).
// The form's hidden "product" field (signed-in buyers) and the log-in link's query (visitors)
// then name the product the buyer is looking at when they press the button.

function pinnedProduct(frame) {
  if (!frame || frame.type !== "session.pinned") return undefined;
  const id = Number(frame.product);
  return Number.isInteger(id) && id > 0 ? String(id) : "";
}

function update(box, product) {
  const field = box.querySelector("[data-nego-product]");
  if (field) field.value = product;
  const link = box.querySelector("[data-nego-start-link]");
  if (link) {
    const url = new URL(link.getAttribute("href"), window.location.href);
    if (product) {
      url.searchParams.set("product", product);
    } else {
      url.searchParams.delete("product");
    }
    link.setAttribute("href", `${url.pathname}${url.search}`);
  }
}

if (!window.cloudfairNegoButton) {
  window.cloudfairNegoButton = true;
  document.addEventListener("livestream:frame", (event) => {
    const product = pinnedProduct(event.detail && event.detail.frame);
    if (product === undefined) return;
    for (const box of document.querySelectorAll("[data-nego-button]")) update(box, product);
  });
}
