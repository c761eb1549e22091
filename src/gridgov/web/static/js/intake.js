/* 受理: place the report on the map (streets → communities → unit grids), require the
   channel's reference where the channel has one, and fill the type from its type-ahead. */
(function () {
  "use strict";
  var form = document.getElementById("report-form");
  if (!form) return;

  // The channel's own reference (工单号) is required for channels that carry one.
  var channel = document.getElementById("f-channel");
  var reference = document.getElementById("f-channel_ref");
  function requireReference() {
    var option = channel.options[channel.selectedIndex];
    var required = option && option.dataset.requiresRef === "true";
    reference.required = required;
    var label = form.querySelector('label[for="f-channel_ref"]');
    var star = label.querySelector(".req");
    if (required && !star) label.insertAdjacentHTML("beforeend", '<span class="req" aria-hidden="true">*</span>');
    if (!required && star) star.remove();
  }
  channel.addEventListener("change", requireReference);
  requireReference();

  // Type-ahead: choosing a candidate puts its code in the field.
  var typeInput = document.getElementById("f-type_code");
  var typeOptions = document.getElementById("type-options");
  typeOptions.addEventListener("click", function (event) {
    var option = event.target.closest(".type-option");
    if (!option) return;
    typeInput.value = option.dataset.code;
    typeOptions.innerHTML = "";
    typeInput.focus();
  });

  // The map: click to place the point; clicking a street shows its communities, clicking a
  // community its unit grids.
  var el = document.getElementById("intake-map");
  if (!el || !window.L || !window.gridgov) return;
  var map = gridgov.createMap(el);
  gridgov.pickPoint(map, document.getElementById("f-lng"), document.getElementById("f-lat"),
                    document.getElementById("f-crs"));
  var outline = { color: "#0b5cad", weight: 2, fillOpacity: 0.04 };
  var inner = { color: "#1a7f37", weight: 1, fillOpacity: 0.06, dashArray: "4 3" };
  var shown = { community: null, unit: null };

  function show(level, parentCode, onEach) {
    ["community", "unit"].forEach(function (name) {
      if ((level === "community" || name === "unit") && shown[name]) { map.removeLayer(shown[name]); shown[name] = null; }
    });
    return gridgov.loadLayer(map, "/api/v1/grids/" + level + "?parent_code=" + encodeURIComponent(parentCode), inner, onEach)
      .then(function (layer) { shown[level] = layer; });
  }
  function named(feature, layer) {
    layer.bindTooltip(feature.properties.name || feature.properties.code, { sticky: true });
  }
  gridgov.loadLayer(map, "/api/v1/grids/street", outline, function (feature, layer) {
    named(feature, layer);
    layer.on("click", function () {
      show("community", feature.properties.code, function (community, communityLayer) {
        named(community, communityLayer);
        communityLayer.on("click", function () { show("unit", community.properties.code, named); });
      });
    });
  });
})();
