// Keeps a background job's progress on the page up to date; reloads the page when it ends.
// Without this script the page offers a "Refresh" link that does the same by hand.
(function () {
  "use strict";
  var box = document.querySelector("[data-status-url]");
  if (!box || !window.fetch) {
    return;
  }
  var bar = box.querySelector("progress");
  var text = box.querySelector("[data-progress-text]");
  var pattern = box.getAttribute("data-progress-pattern");

  function show(done, total) {
    if (bar) {
      bar.max = total;
      bar.value = done;
    }
    if (text && pattern) {
      text.textContent = pattern.replace("{done}", done).replace("{total}", total);
    }
  }

  function poll() {
    fetch(box.getAttribute("data-status-url"), {
      credentials: "same-origin",
      headers: { Accept: "application/json" }
    })
      .then(function (answer) { return answer.ok ? answer.json() : null; })
      .then(function (state) {
        if (state === null) {
          return;
        }
        if (state.status !== "queued" && state.status !== "running") {
          window.location.reload();
          return;
        }
        show(state.done, state.total);
        window.setTimeout(poll, 1000);
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }

  window.setTimeout(poll, 1000);
})();
