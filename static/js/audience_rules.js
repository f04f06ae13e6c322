// Live member count while editing an audience's rules. The page works without it:
// "Preview members" counts on the server.
(() => {
  const form = document.querySelector("form[data-audience-rules]");
  if (!form) return;
  const output = document.querySelector("[data-live-count]");
  const url = form.dataset.countUrl;
  let timer = null;
  let latest = 0;

  const showExtraKeys = () => {
    form.querySelectorAll("[data-rule-row]").forEach((row) => {
      const field = row.querySelector("[data-rule-field]");
      const extra = row.querySelector("[data-extra-key]");
      if (field && extra) extra.hidden = field.value !== "extra";
    });
  };

  const count = async () => {
    const params = new URLSearchParams();
    for (const [name, value] of new FormData(form)) {
      if (name !== "csrfmiddlewaretoken" && typeof value === "string") params.append(name, value);
    }
    const request = ++latest;
    try {
      const response = await fetch(`${url}?${params}`, { headers: { Accept: "application/json" }, credentials: "same-origin" });
      const data = await response.json();
      if (request === latest && output) output.textContent = data.label;
    } catch (error) {
      // Leave the last count in place; the server-side preview still works.
    }
  };

  const schedule = () => {
    clearTimeout(timer);
    timer = setTimeout(count, 300);
  };

  form.addEventListener("input", schedule);
  form.addEventListener("change", (event) => {
    if (event.target.matches("[data-rule-field]")) showExtraKeys();
    schedule();
  });
  showExtraKeys();
  count();
})();
