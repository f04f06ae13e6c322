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
  // How far this visit read: the lede only (1), into the story (2), or to the meetings and
  // questions at the end (3), and how many seconds the story was on screen. One beacon when the
  // page is left or hidden; nothing at all when the browser asks not to be tracked.
  const main = document.querySelector("main[data-read-url]");
  const story = document.getElementById("story");
  const optedOut = navigator.doNotTrack === "1" || window.doNotTrack === "1" || navigator.globalPrivacyControl === true;
  if (main && !optedOut && "IntersectionObserver" in window) {
    let depth = 1;
    let storySeconds = 0;
    let storySince = null;  // when the story came on screen (while the page is visible)
    let storyShown = false;
    let sent = false;
    const now = () => performance.now() / 1000;
    const pauseStory = () => {
      if (storySince !== null) { storySeconds += now() - storySince; storySince = null; }
    };
    const resumeStory = () => {
      if (storyShown && storySince === null && document.visibilityState === "visible") { storySince = now(); }
    };
    if (story) {
      new IntersectionObserver((entries) => {
        entries.forEach((entry) => {
          storyShown = entry.isIntersecting;
          if (storyShown) { depth = Math.max(depth, 2); resumeStory(); } else { pauseStory(); }
        });
      }, { rootMargin: "0px 0px -20% 0px" }).observe(story);
    }
    const end = document.getElementById("questions") || document.getElementById("meetings");
    if (end) {
      new IntersectionObserver((entries) => {
        if (entries.some((entry) => entry.isIntersecting)) { depth = 3; }
      }).observe(end);
    }
    const send = () => {
      pauseStory();
      if (sent) { return; }
      sent = true;
      const body = new URLSearchParams({ d: String(depth), s: String(Math.round(storySeconds)) });
      const url = main.dataset.readUrl;
      if (!(navigator.sendBeacon && navigator.sendBeacon(url, body))) {
        fetch(url, { method: "POST", body, credentials: "omit", keepalive: true }).catch(() => {});
      }
    };
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "hidden") { send(); } else { resumeStory(); }
    });
    window.addEventListener("pagehide", send);
  }
  // After a form's redirect, move focus to the notice so screen readers hear it.
  const notice = document.querySelector(".notice");
  if (notice) {
    notice.setAttribute("tabindex", "-1");
    notice.focus({ preventScroll: true });
  }
})();
