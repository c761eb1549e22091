/* The field page: the phone's position (WGS-84) or a map click (GCJ-02) for the report,
   and the verification list ordered by distance from the phone. */
(function () {
  "use strict";
  var lng = document.getElementById("f-lng"), lat = document.getElementById("f-lat"),
      crs = document.getElementById("f-crs"), status = document.getElementById("location-status");
  var mapEl = document.getElementById("field-map");
  var map = null;

  // The phone's position; progress and failures are told in `out`.
  function locate(out, onPosition) {
    if (!navigator.geolocation) {
      out.textContent = "此设备不支持定位";
      return;
    }
    out.textContent = "正在取得当前位置…";
    navigator.geolocation.getCurrentPosition(onPosition, function (error) {
      out.textContent = "无法取得当前位置（" + error.message + "）";
    }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
  }

  if (mapEl && window.L && window.gridgov) {
    map = gridgov.createMap(mapEl);
    gridgov.loadLayer(map, "/api/v1/grids/street", { weight: 1, color: "#1d5fa8", fillOpacity: 0.05 })
      .catch(function () { /* the outline is a help, the form works without it */ });
    gridgov.pickPoint(map, lng, lat, crs);
    lng.addEventListener("change", function () {
      status.textContent = "已在地图上选定位置：" + lng.value + ", " + lat.value;
    });
  }

  var useLocation = document.getElementById("use-location");
  if (useLocation) {
    useLocation.addEventListener("click", function () {
      locate(status, function (position) {
        var c = position.coords;
        lng.value = c.longitude.toFixed(6);
        lat.value = c.latitude.toFixed(6);
        crs.value = "wgs84";
        status.textContent = "已使用当前位置（GPS，精度约 " + Math.round(c.accuracy) + " 米）：" +
          lng.value + ", " + lat.value;
        if (map) map.setView([c.latitude, c.longitude], 17);
      });
    });
  }

  // Enter in the type search must not submit the report.
  var typeSearch = document.getElementById("f-type_q");
  if (typeSearch) {
    typeSearch.addEventListener("keydown", function (event) {
      if (event.key === "Enter") event.preventDefault();
    });
  }

  var sortNearby = document.getElementById("sort-nearby");
  if (sortNearby) {
    sortNearby.addEventListener("click", function () {
      locate(document.getElementById("verify-order"), function (position) {
        var c = position.coords;
        window.location.assign("/field?lng=" + c.longitude.toFixed(6) + "&lat=" + c.latitude.toFixed(6) +
          "&crs=wgs84#verify");
      });
    });
  }
})();
