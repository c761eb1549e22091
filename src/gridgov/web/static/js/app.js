/* gridgov pages: htmx wiring (CSRF, error swaps), live deadline clocks, maps from our GeoJSON. */
(function () {
  "use strict";
  var csrf = document.querySelector('meta[name="csrf-token"]');

  // Every htmx request carries the session's CSRF token; form errors (4xx) are swapped in
  // like any answer so that the problem appears next to its field.
  document.body.addEventListener("htmx:configRequest", function (event) {
    if (csrf && csrf.content) event.detail.headers["X-CSRF-Token"] = csrf.content;
  });
  if (window.htmx) {
    htmx.config.responseHandling = [
      { code: "204", swap: false },
      { code: "[23]..", swap: true },
      { code: "(400|404|409|413|422|429)", swap: true, error: false },
      { code: "[45]..", swap: false, error: true },
    ];
  }
  document.body.addEventListener("htmx:responseError", function (event) {
    toast("操作失败（" + event.detail.xhr.status + "），请刷新页面后重试");
  });
  document.body.addEventListener("toast", function (event) { toast(event.detail.value); });

  function toast(text) {
    var box = document.getElementById("toast");
    if (!box || !text) return;
    box.textContent = text;
    box.classList.add("toast-shown");
    clearTimeout(box._timer);
    box._timer = setTimeout(function () { box.classList.remove("toast-shown"); }, 4000);
  }

  // Live clocks: <time class="clock" data-deadline=ISO [data-started=ISO]>.
  function span(ms) {
    var minutes = Math.floor(Math.abs(ms) / 60000);
    var days = Math.floor(minutes / 1440), hours = Math.floor((minutes % 1440) / 60), rest = minutes % 60;
    if (days) return days + "天" + hours + "小时";
    if (hours) return hours + "小时" + rest + "分";
    return rest + "分";
  }
  function tick() {
    var now = Date.now();
    document.querySelectorAll(".clock[data-deadline]").forEach(function (el) {
      var deadline = Date.parse(el.dataset.deadline);
      var started = el.dataset.started ? Date.parse(el.dataset.started) : null;
      var left = deadline - now;
      var soon = started !== null ? (now - started) >= 0.8 * (deadline - started) : left < 3600000;
      el.classList.toggle("clock-overdue", left < 0);
      el.classList.toggle("clock-soon", left >= 0 && soon);
      var out = el.querySelector(".clock-left");
      if (out) out.textContent = left < 0 ? "已超时 " + span(left) : "剩余 " + span(left);
    });
  }
  tick();
  setInterval(tick, 15000);
  document.body.addEventListener("htmx:afterSettle", tick);

  // Maps: Leaflet over our own GeoJSON layers; a tile layer only when the deployment sets one.
  function createMap(el, options) {
    options = options || {};
    var map = L.map(el, { zoomSnap: 0.25, attributionControl: false, preferCanvas: true });
    map.setView(options.center || [39.915, 116.41], options.zoom || 13);
    var tiles = el.dataset.tileUrl;
    if (tiles) L.tileLayer(tiles, { maxZoom: 19 }).addTo(map);
    return map;
  }
  function loadLayer(map, url, style, onEachFeature) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/geo+json" } })
      .then(function (r) { if (!r.ok) throw new Error(url + " " + r.status); return r.json(); })
      .then(function (doc) {
        var layer = L.geoJSON(doc, { style: style, onEachFeature: onEachFeature }).addTo(map);
        if (layer.getBounds().isValid()) map.fitBounds(layer.getBounds(), { padding: [8, 8] });
        return layer;
      });
  }
  // Clicking the map (or "use my location") fills the form's lng/lat inputs.
  function pickPoint(map, lngInput, latInput, crsInput) {
    var marker = null;
    function place(latlng, crs) {
      if (marker) marker.setLatLng(latlng); else marker = L.marker(latlng).addTo(map);
      lngInput.value = latlng.lng.toFixed(6);
      latInput.value = latlng.lat.toFixed(6);
      if (crsInput) crsInput.value = crs;
      lngInput.dispatchEvent(new Event("change", { bubbles: true }));
    }
    map.on("click", function (e) { place(e.latlng, "gcj02"); });
    if (lngInput.value && latInput.value) place(L.latLng(+latInput.value, +lngInput.value), crsInput ? crsInput.value : "gcj02");
    return place;
  }

  window.gridgov = { toast: toast, tick: tick, createMap: createMap, loadLayer: loadLayer, pickPoint: pickPoint };
})();
