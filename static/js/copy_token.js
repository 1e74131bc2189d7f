// The new token's Copy button: the Clipboard API when the page may use it; otherwise the token
// is selected in its readonly field for the person to copy, and the status says so.
(function () {
  "use strict";

  function init() {
    const button = document.getElementById("copy-token");
    const field = document.getElementById("token-secret");
    const status = document.getElementById("copy-status");
    if (!button || !field || !status) return;
    button.hidden = false;

    function say(text, kind) {
      status.textContent = text;
      status.className = "small " + kind;
    }

    function selectField() {
      field.focus();
      field.select();
      field.setSelectionRange(0, field.value.length);
    }

    field.addEventListener("focus", selectField);
    button.addEventListener("click", function () {
      if (!navigator.clipboard || !window.isSecureContext) {
        selectField();
        say("Selected: press Ctrl+C (⌘C) to copy.", "failed");
        return;
      }
      navigator.clipboard.writeText(field.value).then(
        function () {
          say("Copied", "copied");
        },
        function () {
          selectField();
          say("Could not copy: the token is selected, press Ctrl+C (⌘C).", "failed");
        }
      );
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
