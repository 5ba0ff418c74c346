// "Show" toggles and "Copy" buttons for read-only fields (the go-live page's stream key, the
// calendar feed address). No inline script: strict CSP. The clipboard API needs a secure
// context; elsewhere the text is selected so the person can copy it themselves.

function announce(text) {
  const status = document.querySelector("[data-copy-status]");
  if (status) status.textContent = text;
}

for (const button of document.querySelectorAll("[data-reveal]")) {
  button.addEventListener("click", () => {
    const input = document.getElementById(button.dataset.reveal);
    if (!input) return;
    const show = input.type === "password";
    input.type = show ? "text" : "password";
    button.setAttribute("aria-pressed", String(show));
    button.textContent = show ? button.dataset.hideText : button.dataset.showText;
  });
}

for (const button of document.querySelectorAll("[data-copy]")) {
  button.addEventListener("click", async () => {
    const input = document.getElementById(button.dataset.copy);
    if (!input) return;
    try {
      await navigator.clipboard.writeText(input.value);
      announce(button.dataset.copiedText || "");
    } catch {
      const wasPassword = input.type === "password";
      if (wasPassword) input.type = "text";
      input.focus();
      input.select();
    }
  });
}
