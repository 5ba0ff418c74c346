// Search box autocomplete: fills the input's <datalist> from /search/suggest/ as the buyer
// types (debounced; stale answers ignored). Without JavaScript the form still searches.
const form = document.querySelector("form[data-suggest-url]");
const input = form && form.querySelector("input[name=q]");
const list = document.getElementById("search-suggestions");

if (form && input && list) {
  let timer = null;
  let latest = 0;

  const fill = (suggestions) => {
    list.replaceChildren(
      ...suggestions.map((text) => {
        const option = document.createElement("option");
        option.value = text;
        return option;
      }),
    );
  };

  input.addEventListener("input", () => {
    clearTimeout(timer);
    const text = input.value.trim();
    if (text.length < 2) {
      fill([]);
      return;
    }
    timer = setTimeout(async () => {
      const ticket = ++latest;
      const url = new URL(form.dataset.suggestUrl, window.location.origin);
      url.searchParams.set("q", text);
      try {
        const response = await fetch(url, { headers: { Accept: "application/json" } });
        if (!response.ok || ticket !== latest) return;
        const data = await response.json();
        if (ticket === latest) fill(data.suggestions || []);
      } catch {
        // Offline or server busy: the box keeps working without suggestions.
      }
    }, 150);
  });
}
