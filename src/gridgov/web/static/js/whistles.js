/* 发起吹哨: the street's communities on a map; a click inside the street picks the whistle's
   place (the server checks it lies in the street). The case's own point is shown for reference. */
(function () {
  "use strict";
  var el = document.getElementById("whistle-map");
  if (!el || !window.L || !window.gridgov) return;
  var map = gridgov.createMap(el);
  gridgov.loadLayer(map, el.dataset.layerUrl, { color: "#0b5cad", weight: 1, fillOpacity: 0.06 })
    .catch(function () { gridgov.toast("网格图层加载失败，可直接填写经纬度"); });
  if (el.dataset.caseLng && el.dataset.caseLat) {
    L.circleMarker([+el.dataset.caseLat, +el.dataset.caseLng], { radius: 7, color: "#b42318" })
      .bindTooltip("案件地点").addTo(map);
  }
  gridgov.pickPoint(map, document.getElementById("f-lng"), document.getElementById("f-lat"));
})();
