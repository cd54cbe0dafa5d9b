// Atelier console: small enhancements only; every page works without this file.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  // Revoking a key: the button waits until the key id is typed exactly (the server
  // checks it again, so this is only a convenience).
  for (const form of document.querySelectorAll("form[data-confirm-match]")) {
    const expected = form.getAttribute("data-confirm-match");
    const input = form.querySelector("input[name='confirm_kid']");
    const button = form.querySelector("[data-confirm-button]");
    if (!input || !button) continue;
    const update = () => {
      const ok = input.value === expected;
      button.disabled = !ok;
      button.setAttribute("aria-disabled", String(!ok));
    };
    input.addEventListener("input", update);
    update();
  }

  // A form sent once is not sent twice by a double click.
  for (const form of document.querySelectorAll("form[method='post']")) {
    form.addEventListener("submit", () => {
      for (const button of form.querySelectorAll("button[type='submit']")) {
        setTimeout(() => { button.disabled = true; }, 0);
      }
    });
  }
});
