// Asset pages: show only the timing fields that apply, and fit email previews to their content.
(function () {
  const timing = document.querySelectorAll("input[name$='timing']");
  if (timing.length) {
    const groups = {
      relative: ["offset_days", "local_time"],
      fixed: ["fixed_at"],
    };
    const wrapperOf = (name) => {
      const input = document.querySelector(`[name$='-${name}']`);
      return input ? input.closest(".mb-3") : null;
    };
    const update = () => {
      const chosen = Array.from(timing).find((radio) => radio.checked);
      const value = chosen ? chosen.value : "relative";
      Object.entries(groups).forEach(([key, names]) => {
        names.forEach((name) => {
          const wrapper = wrapperOf(name);
          if (wrapper) wrapper.hidden = key !== value;
        });
      });
    };
    timing.forEach((radio) => radio.addEventListener("change", update));
    update();
  }

  document.querySelectorAll("iframe.email-frame").forEach((frame) => {
    const fit = () => {
      try {
        const doc = frame.contentDocument;
        if (!doc || !doc.documentElement) return;
        frame.style.height = "200px";
        frame.style.height = `${doc.documentElement.scrollHeight + 8}px`;
      } catch (error) {
        // Not same-origin: keep the fixed height from the stylesheet.
      }
    };
    frame.addEventListener("load", fit);
    if (frame.contentDocument && frame.contentDocument.readyState === "complete") fit();
  });
})();
