// Analysis edit page: add whys and action items from the formsets' empty form, reorder whys.
// Without JavaScript the page still works: one blank row of each is always there, ORDER is a field.
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

  function renumberWhys() {
    document.querySelectorAll("#whys [data-why-row]").forEach(function (row, i) {
      row.querySelector(".why-number").textContent = String(i + 1);
      const order = row.querySelector("input[name$='-ORDER']");
      if (order) order.value = String(i + 1);
    });
  }

  function init() {
    const whys = document.getElementById("whys");
    const items = document.querySelector("#items tbody");
    if (!whys || !items) return;

    document.getElementById("add-why").addEventListener("click", function () {
      const row = addRow("whys", "why-template", whys);
      renumberWhys();
      row.querySelector("textarea").focus();
    });
    document.getElementById("add-item").addEventListener("click", function () {
      addRow("items", "item-template", items).querySelector("textarea").focus();
    });
    whys.addEventListener("click", function (event) {
      const row = event.target.closest("[data-why-row]");
      if (!row) return;
      if (event.target.classList.contains("why-up") && row.previousElementSibling) {
        whys.insertBefore(row, row.previousElementSibling);
      } else if (event.target.classList.contains("why-down") && row.nextElementSibling) {
        whys.insertBefore(row.nextElementSibling, row);
      } else {
        return;
      }
      renumberWhys();
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
