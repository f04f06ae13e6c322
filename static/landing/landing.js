// Small enhancements for the landing page; every form works without them.
(() => {
  // A submitted form cannot be sent twice by an impatient second click.
  document.addEventListener("submit", (event) => {
    const button = event.target.querySelector("button[type=submit]");
    if (button && !event.defaultPrevented) {
      window.setTimeout(() => { button.disabled = true; }, 0);
    }
  });
  // After a form's redirect, move focus to the notice so screen readers hear it.
  const notice = document.querySelector(".notice");
  if (notice) {
    notice.setAttribute("tabindex", "-1");
    notice.focus({ preventScroll: true });
  }
})();
