/* Case detail: the case's point and its unit grid outline on a map. */
(function () {
  "use strict";
  var el = document.getElementById("case-map");
  if (!el || !window.L || !window.gridgov) return;
  var point = L.latLng(+el.dataset.lat, +el.dataset.lng);
  var map = gridgov.createMap(el, { center: point, zoom: 17 });
  var outline = JSON.parse(document.getElementById("case-outline").textContent || "null");
  if (outline) {
    var cell = L.geoJSON(outline, { style: { color: "#0b5cad", weight: 2, fillOpacity: 0.08 } }).addTo(map);
    map.fitBounds(cell.getBounds().extend(point), { padding: [16, 16] });
  }
  L.circleMarker(point, { radius: 8, color: "#b42318", weight: 3, fillColor: "#fff", fillOpacity: 1 })
    .addTo(map).bindTooltip("案件位置");
})();
