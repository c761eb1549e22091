/* 系统管理: grey out the roles that do not fit the chosen unit's kind (the server checks too). */
(function () {
  "use strict";
  document.querySelectorAll("form[data-role-form]").forEach(function (form) {
    var unit = form.querySelector("select[name=unit_code]");
    if (!unit) return;
    function fit() {
      var option = unit.options[unit.selectedIndex];
      var kind = option ? option.dataset.kind : "";
      form.querySelectorAll("label[data-kinds]").forEach(function (label) {
        var box = label.querySelector("input");
        var fits = !kind || label.dataset.kinds.split(" ").indexOf(kind) >= 0;
        box.disabled = !fits;
        if (!fits) box.checked = false;
        label.classList.toggle("unfit", !fits);
      });
    }
    unit.addEventListener("change", fit);
    fit();
  });
})();

/* 考核权重: the running sum of the weights as they are typed (the server checks it too). */
(function () {
  "use strict";
  document.querySelectorAll("form[data-weights]").forEach(function (form) {
    var out = form.querySelector("[data-weight-sum]");
    var inputs = form.querySelectorAll("table input[type=number]");
    function total() {
      var cents = 0, ok = true;
      inputs.forEach(function (input) {
        var value = input.value.trim() === "" ? 0 : Number(input.value);
        if (isNaN(value)) ok = false; else cents += Math.round(value * 100);
      });
      out.textContent = ok ? String(cents / 100) : "—";
      out.classList.toggle("bad", !ok || cents !== 10000);
    }
    inputs.forEach(function (input) { input.addEventListener("input", total); });
  });
})();
