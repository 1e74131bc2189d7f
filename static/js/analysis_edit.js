// Analysis edit page: add, remove and reorder whys, add and remove action items, by buttons.
// The formsets' ORDER and DELETE fields stay in the form, hidden: the buttons set them, so the
// POST is the one the page sends without JavaScript (where those fields show instead).
(function () {
  "use strict";

  function addRow(prefix, templateId, container) {
    const total = document.getElementById("id_" + prefix + "-TOTAL_FORMS");
    const index = Number(total.value);
    const html = document.getElementById(templateId).innerHTML.replace(/__prefix__/g, String(index));
    container.insertAdjacentHTML("beforeend", html);
    total.value = String(index + 1);
    return container.lastElementChild;
  }

  function markRemoved(row) {
    const remove = row.querySelector("input[name$='-DELETE']");
    if (remove) remove.checked = true;
    row.classList.add("removed");
    row.setAttribute("aria-hidden", "true");
  }

  function renumberWhys() {
    let shown = 0;
    document.querySelectorAll("#whys [data-why-row]").forEach(function (row) {
      const order = row.querySelector("input[name$='-ORDER']");
      if (row.classList.contains("removed")) {
        if (order) order.value = "";
        return;
      }
      shown += 1;
      row.querySelector(".why-number").textContent = String(shown);
      if (order) order.value = String(shown);
    });
  }

  function init() {
    const whys = document.getElementById("whys");
    const items = document.querySelector("#items tbody");
    if (!whys || !items) return;
    renumberWhys();

    document.getElementById("add-why").addEventListener("click", function () {
      const row = addRow("whys", "why-template", whys);
      renumberWhys();
      row.querySelector("textarea").focus();
    });
    document.getElementById("add-item").addEventListener("click", function () {
      addRow("items", "item-template", items).querySelector("textarea").focus();
    });
    whys.addEventListener("click", function (event) {
      const button = event.target.closest("button");
      const row = button && button.closest("[data-why-row]");
      if (!row) return;
      if (button.classList.contains("why-up")) {
        let before = row.previousElementSibling;
        while (before && before.classList.contains("removed")) before = before.previousElementSibling;
        if (before) whys.insertBefore(row, before);
      } else if (button.classList.contains("why-down")) {
        let after = row.nextElementSibling;
        while (after && after.classList.contains("removed")) after = after.nextElementSibling;
        if (after) whys.insertBefore(after, row);
      } else if (button.classList.contains("why-remove")) {
        markRemoved(row);
        const next = whys.querySelector("[data-why-row]:not(.removed) textarea");
        (next || document.getElementById("add-why")).focus();
      } else {
        return;
      }
      renumberWhys();
      if (!button.classList.contains("why-remove")) button.focus();
    });
    items.addEventListener("click", function (event) {
      const button = event.target.closest("button.item-remove");
      if (!button) return;
      const row = button.closest("[data-item-row]");
      const saved = row.querySelector("input[name$='-id']");
      if (!saved || !saved.value) {
        // A row never saved: emptied, so the formset ignores it as an unchanged extra row.
        row.querySelectorAll("textarea, input:not([type=hidden]), select").forEach(function (input) {
          if (input.type === "checkbox") input.checked = false;
          else if (input.tagName === "SELECT") input.selectedIndex = 0;
          else input.value = "";
        });
      }
      markRemoved(row);
      document.getElementById("add-item").focus();
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
