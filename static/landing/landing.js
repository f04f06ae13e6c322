// Small enhancements for the landing page; every form works without them.
(() => {
  // A submitted form cannot be sent twice by an impatient second click.
  document.addEventListener("submit", (event) => {
    const button = event.target.querySelector("button[type=submit]");
    if (button && !event.defaultPrevented) {
      window.setTimeout(() => { button.disabled = true; }, 0);
    }
  });
  // A film's first play on this page is counted (one anonymous beacon; nothing about the viewer is sent).
  document.querySelectorAll("video[data-play-url]").forEach((video) => {
    video.addEventListener("play", () => {
      const url = video.dataset.playUrl;
      if (!(navigator.sendBeacon && navigator.sendBeacon(url))) {
        fetch(url, { method: "POST", credentials: "omit", keepalive: true }).catch(() => {});
      }
    }, { once: true });
  });
  // After a form's redirect, move focus to the notice so screen readers hear it.
  const notice = document.querySelector(".notice");
  if (notice) {
    notice.setAttribute("tabindex", "-1");
    notice.focus({ preventScroll: true });
  }
})();
