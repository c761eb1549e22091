/* 随手拍: the place (phone location or a click on the street map) and a look at the photos
   before sending. The server checks everything again; this only helps while filling in. */
(function () {
  "use strict";
  var form = document.querySelector(".report-form");
  if (!form) return;
  var lngInput = form.querySelector("#f-lng"), latInput = form.querySelector("#f-lat");
  var crsInput = form.querySelector("#f-crs"), status = document.getElementById("place-status");
  var mapEl = document.getElementById("report-map");

  function say(text, outside) {
    status.textContent = text;
    status.classList.toggle("outside", !!outside);
  }

  // Where a position lies (street name, GCJ-02 point), from the public grid endpoint.
  function lookUp(lng, lat, crs) {
    var url = mapEl.dataset.placeUrl + "?lng=" + lng + "&lat=" + lat + "&crs=" + crs;
    return fetch(url, { headers: { Accept: "application/json" } }).then(function (r) {
      if (!r.ok) throw new Error(r.status);
      return r.json();
    });
  }
  function describe(place) {
    if (place.inside) say("已选位置：" + place.street_name + "（经度 " + lngInput.value + "，纬度 " + latInput.value + "）");
    else say("该位置不在东城区范围内，请重新选择", true);
  }

  var map = gridgov.createMap(mapEl);
  gridgov.loadLayer(map, mapEl.dataset.streetsUrl,
    { color: "#0b5cad", weight: 1.5, fillColor: "#0b5cad", fillOpacity: 0.06 },
    function (feature, layer) { layer.bindTooltip(feature.properties.name, { sticky: true }); }
  ).catch(function () { say("地图加载失败，可使用当前位置或手动填写经纬度"); });
  var place = gridgov.pickPoint(map, lngInput, latInput, crsInput);

  // A click on the map (or a typed position) fills the inputs: say which street it is in.
  function onChosen() {
    if (!lngInput.value || !latInput.value) return;
    lookUp(lngInput.value, latInput.value, crsInput.value).then(describe)
      .catch(function () { say("暂时无法确认位置，提交时会再次检查"); });
  }
  lngInput.addEventListener("change", onChosen);
  latInput.addEventListener("change", onChosen);
  crsInput.addEventListener("change", onChosen);

  // The phone's location is WGS-84: keep it as it is (the server converts), and show the
  // marker where it lies on the GCJ-02 map.
  document.getElementById("use-location").addEventListener("click", function () {
    if (!navigator.geolocation) { say("此浏览器不能定位，请在地图上点选", true); return; }
    say("正在定位……");
    navigator.geolocation.getCurrentPosition(function (position) {
      var lng = position.coords.longitude.toFixed(6), lat = position.coords.latitude.toFixed(6);
      lookUp(lng, lat, "wgs84").then(function (found) {
        place(L.latLng(found.lat, found.lng), "gcj02");
        lngInput.value = lng; latInput.value = lat; crsInput.value = "wgs84";
        map.panTo([found.lat, found.lng]);
        describe(found);
      }).catch(function () {
        lngInput.value = lng; latInput.value = lat; crsInput.value = "wgs84";
        say("已取得当前位置（经度 " + lng + "，纬度 " + lat + "）");
      });
    }, function () {
      say("无法取得当前位置（可能未允许定位），请在地图上点选", true);
    }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
  });

  // Photos: thumbnails, and the count and size limits said at once.
  var photos = form.querySelector("#f-photos"), preview = document.getElementById("photo-preview");
  photos.addEventListener("change", function () {
    preview.textContent = "";
    var files = Array.prototype.slice.call(photos.files);
    var maxCount = +photos.dataset.maxPhotos, maxBytes = +photos.dataset.maxMb * 1024 * 1024;
    var problems = [];
    if (files.length > maxCount) problems.push("最多上传 " + maxCount + " 张照片");
    files.forEach(function (file) {
      if (file.size > maxBytes) problems.push(file.name + " 超过 " + photos.dataset.maxMb + " MB");
      else if (file.type && file.type.indexOf("image/") !== 0) problems.push(file.name + " 不是图片");
      else {
        var img = document.createElement("img");
        img.alt = "待上传照片 " + file.name;
        img.src = URL.createObjectURL(file);
        preview.appendChild(img);
      }
    });
    if (problems.length) {
      var p = document.createElement("p");
      p.className = "field-error";
      p.textContent = problems.join("；");
      preview.appendChild(p);
    }
  });
})();
