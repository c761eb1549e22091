/* 指挥驾驶舱: the district map (street → community → grid) coloured by case density or Gi* hot
   spots, and the ECharts charts, all from /dashboard/data/… for the chosen period. */
(function () {
  "use strict";
  var root = document.getElementById("dashboard");
  if (!root) return;

  var DENSITY = ["#fff3c4", "#fdd17b", "#fb9a4b", "#e8552d", "#b01c1c"];
  var HOT = { hot_99: "#a50f15", hot_95: "#e34a33", hot_90: "#fc9272" };
  var EMPTY = "#eef1f4";
  var GRANULARITY_OF = { month: "day", "30d": "day", year: "month" };
  var CHILD_LEVEL = { street: "community", community: "unit" };

  var state = {
    period: root.dataset.period,
    mode: "density",
    granularity: GRANULARITY_OF[root.dataset.period] || "day",
    // each entry: the polygons drawn (level) inside a parent area (code; null: the district)
    trail: [{ name: root.dataset.rootName, level: root.dataset.rootLevel, code: root.dataset.rootCode || null }],
  };
  var mapEl = document.getElementById("dash-map");
  var map = gridgov.createMap(mapEl);
  var renderer = L.svg({ padding: 0.2 });
  var layers = [];
  var charts = {};
  var current = { density: null, hot: null, features: [] };

  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); });
  }
  function query(extra) {
    var params = new URLSearchParams(Object.assign({ period: state.period }, extra || {}));
    return params.toString();
  }
  function number(n) { return n == null ? "—" : Number(n).toLocaleString("zh-CN"); }
  function percent(v) { return v == null ? "—" : (v * 100).toFixed(1) + "%"; }
  function yoyText(v) { return v == null ? "去年同期无数据" : "同比 " + (v >= 0 ? "+" : "") + (v * 100).toFixed(1) + "%"; }
  function setStatus(text) { document.getElementById("map-status").textContent = text || ""; }
  function here() { return state.trail[state.trail.length - 1]; }

  // ---- big numbers ------------------------------------------------------------------------
  function loadSummary() {
    return getJSON("/dashboard/data/summary?" + query()).then(function (s) {
      var asOf = new Date(s.as_of).toLocaleTimeString("zh-CN", { hour12: false });
      document.getElementById("period-range").textContent = s.start + " 至 " + s.end + " · 数据截至 " + asOf;
      document.getElementById("stat-reported").textContent = number(s.reported);
      document.getElementById("stat-yoy").textContent = yoyText(s.yoy) + "（去年同期 " + number(s.reported_last_year) + "）";
      document.getElementById("stat-closed").textContent = number(s.closed);
      document.getElementById("stat-open").textContent = number(s.open);
      document.getElementById("stat-overdue").textContent = number(s.overdue);
      document.getElementById("stat-supervised").textContent = number(s.supervised);
    });
  }

  // ---- the map ----------------------------------------------------------------------------
  function geoUrl(entry) {
    return "/api/v1/grids/" + entry.level + (entry.code ? "?parent_code=" + encodeURIComponent(entry.code) : "");
  }
  function densityUrl(entry) {
    return "/dashboard/data/density?" + query(entry.code ? { level: entry.level, parent: entry.code } : { level: entry.level });
  }
  function fetchGeo(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/geo+json" } })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); });
  }

  function densityBreaks(max) {
    var step = Math.max(1, Math.ceil(max / DENSITY.length));
    return DENSITY.map(function (_, i) { return i * step + 1; });
  }
  function valueOf(code) {
    var entry = here();
    if (state.mode === "density") return (current.density && current.density.counts[code]) || 0;
    if (!current.hot) return 0;
    if (entry.level === "unit") return current.hot.unit[code] || null;
    return current.hot[entry.level][code] || 0;
  }
  function colourOf(code) {
    var v = valueOf(code);
    if (state.mode === "hotspot" && here().level === "unit") return v ? HOT[v["class"]] : EMPTY;
    if (!v) return EMPTY;
    var breaks = current.breaks, i = breaks.length - 1;
    while (i > 0 && v < breaks[i]) i--;
    return DENSITY[i];
  }
  function describe(feature) {
    var code = feature.properties.code, name = feature.properties.name || code, v = valueOf(code);
    var text = name + "：" + number((current.density && current.density.counts[code]) || 0) + " 件";
    if (state.mode === "hotspot") {
      if (here().level === "unit") text += v ? "，" + v.label + "，z = " + v.z.toFixed(2) : "，非热点";
      else text += "，热点网格 " + number(v) + " 个";
    }
    return text;
  }
  function legend() {
    var box = document.getElementById("map-legend"), items = [];
    if (state.mode === "hotspot" && here().level === "unit") {
      items = [[HOT.hot_99, "热点 99%"], [HOT.hot_95, "热点 95%"], [HOT.hot_90, "热点 90%"], [EMPTY, "不显著"]];
    } else {
      var b = current.breaks, unit = state.mode === "density" ? " 件" : " 个热点网格";
      items = [[EMPTY, "0" + unit]].concat(DENSITY.map(function (c, i) {
        return [c, (i === DENSITY.length - 1 ? "≥ " + b[i] : b[i] + "–" + (b[i + 1] - 1)) + unit];
      }));
    }
    box.innerHTML = "";
    items.forEach(function (item) {
      var span = document.createElement("span");
      span.className = "legend-item";
      var swatch = document.createElement("i");
      swatch.style.background = item[0];
      span.appendChild(swatch);
      span.appendChild(document.createTextNode(item[1]));
      box.appendChild(span);
    });
  }
  function restyle() {
    var values = current.features.map(function (f) {
      var v = valueOf(f.properties.code);
      return typeof v === "number" ? v : 0;
    });
    current.breaks = densityBreaks(Math.max.apply(null, values.concat([0])));
    layers.forEach(function (layer) {
      if (!layer.options.areas) return;
      layer.eachLayer(function (shape) {
        var text = describe(shape.feature);
        shape.setStyle({ fillColor: colourOf(shape.feature.properties.code) });
        shape.setTooltipContent(text);
        var el = shape.getElement();
        if (el) el.setAttribute("aria-label", text + (CHILD_LEVEL[here().level] ? "，回车进入下一级" : ""));
      });
    });
    legend();
    areaTable();
  }
  function areaTable() {
    var body = document.getElementById("area-rows"), drill = CHILD_LEVEL[here().level];
    body.innerHTML = "";
    current.features.slice().sort(function (a, b) {
      var ca = (current.density && current.density.counts[a.properties.code]) || 0;
      var cb = (current.density && current.density.counts[b.properties.code]) || 0;
      return cb - ca || (a.properties.code < b.properties.code ? -1 : 1);
    }).forEach(function (f) {
      var code = f.properties.code, tr = document.createElement("tr");
      var th = document.createElement("th");
      th.scope = "row";
      if (drill) {
        var button = document.createElement("button");
        button.type = "button";
        button.className = "link-like";
        button.textContent = f.properties.name || code;
        button.addEventListener("click", function () { drillInto(f.properties); });
        th.appendChild(button);
      } else {
        th.textContent = (f.properties.name || code) + "（" + code + "）";
      }
      var hot = current.hot ? (here().level === "unit" ? (current.hot.unit[code] ? current.hot.unit[code].label : "—")
        : number(current.hot[here().level][code] || 0)) : "…";
      tr.appendChild(th);
      [number((current.density && current.density.counts[code]) || 0), hot].forEach(function (text) {
        var td = document.createElement("td");
        td.className = "num";
        td.textContent = text;
        tr.appendChild(td);
      });
      body.appendChild(tr);
    });
  }
  function accessible(shape, drillable) {
    var el = shape.getElement();
    if (!el) return;
    el.setAttribute("tabindex", "0");
    el.setAttribute("role", drillable ? "button" : "img");
    el.addEventListener("focus", function () { shape.openTooltip(shape.getCenter()); });
    el.addEventListener("blur", function () { shape.closeTooltip(); });
    if (drillable) {
      el.addEventListener("keydown", function (e) {
        if (e.key === "Enter" || e.key === " ") { e.preventDefault(); drillInto(shape.feature.properties); }
      });
    }
  }
  function clearLayers() {
    layers.forEach(function (layer) { map.removeLayer(layer); });
    layers = [];
  }
  function drawLevel() {
    var entry = here(), drillable = !!CHILD_LEVEL[entry.level];
    setStatus("正在加载 " + entry.name + " 的区域…");
    breadcrumb();
    var outlines = entry.level === "unit" ? fetchGeo(geoUrl({ level: "basic", code: entry.code })) : Promise.resolve(null);
    return Promise.all([fetchGeo(geoUrl(entry)), getJSON(densityUrl(entry)), outlines]).then(function (got) {
      if (entry !== here()) return;
      clearLayers();
      current.features = got[0].features;
      current.density = got[1];
      var layer = L.geoJSON(got[0], {
        renderer: renderer, areas: true,
        style: { color: "#5b6670", weight: 1, fillOpacity: 0.78, fillColor: EMPTY },
        onEachFeature: function (feature, shape) {
          shape.bindTooltip("", { sticky: true, direction: "top" });
          if (drillable) shape.on("click", function () { drillInto(feature.properties); });
          shape.on("mouseover", function () { shape.setStyle({ weight: 3, color: "#1d2733" }); });
          shape.on("mouseout", function () { shape.setStyle({ weight: 1, color: "#5b6670" }); });
        },
      }).addTo(map);
      layers.push(layer);
      if (got[2]) {
        layers.push(L.geoJSON(got[2], { renderer: renderer, interactive: false,
          style: { color: "#1d2733", weight: 2.5, fill: false, dashArray: "6 4" } }).addTo(map));
      }
      layer.eachLayer(function (shape) { accessible(shape, drillable); });
      current.bounds = layer.getBounds().isValid() ? layer.getBounds() : null;
      fit();
      restyle();
      setStatus(entry.name + "：" + number(current.density.total) + " 件（" + current.density.start + " 至 " + current.density.end + "）");
    }).catch(function () { setStatus("地图数据加载失败，请刷新页面重试"); });
  }
  function fit() {
    // No zoom animation: the areas are in their final place, and can be clicked, as soon as
    // they are labelled (a click during the animation could land beside the area).
    if (current.bounds) map.fitBounds(current.bounds, { padding: [8, 8], animate: false });
  }
  function drillInto(props) {
    var level = CHILD_LEVEL[here().level];
    if (!level) return;
    state.trail.push({ name: props.name || props.code, level: level, code: props.code });
    drawLevel().then(function () {
      var first = mapEl.querySelector("path[tabindex]");
      if (first && document.activeElement && document.activeElement.tagName === "path") first.focus();
    });
  }
  function breadcrumb() {
    var list = document.getElementById("breadcrumb");
    list.innerHTML = "";
    state.trail.forEach(function (entry, i) {
      var li = document.createElement("li");
      if (i === state.trail.length - 1) {
        var span = document.createElement("span");
        span.setAttribute("aria-current", "location");
        span.textContent = entry.name;
        li.appendChild(span);
      } else {
        var button = document.createElement("button");
        button.type = "button";
        button.className = "link-like";
        button.textContent = entry.name;
        button.addEventListener("click", function () {
          state.trail = state.trail.slice(0, i + 1);
          drawLevel();
        });
        li.appendChild(button);
      }
      list.appendChild(li);
    });
  }
  function loadHotspots() {
    current.hot = null;
    return getJSON("/dashboard/data/hotspots?" + query()).then(function (hot) {
      current.hot = hot;
      restyle();
    }).catch(function () { setStatus("热点分析加载失败"); });
  }
  document.querySelectorAll('input[name="map-mode"]').forEach(function (radio) {
    radio.addEventListener("change", function () {
      state.mode = radio.value;
      if (state.mode === "hotspot" && !current.hot) loadHotspots();
      restyle();
    });
  });

  // ---- charts -----------------------------------------------------------------------------
  function chart(id) {
    if (!charts[id]) charts[id] = echarts.init(document.getElementById(id), null, { renderer: "canvas" });
    return charts[id];
  }
  var BASE = { aria: { enabled: true }, textStyle: { fontFamily: "inherit" }, animation: false };
  function option(extra) { return Object.assign({}, BASE, extra); }

  function loadTrend() {
    document.querySelectorAll("[data-granularity]").forEach(function (b) {
      b.setAttribute("aria-pressed", String(b.dataset.granularity === state.granularity));
    });
    return getJSON("/dashboard/data/trends?" + query({ granularity: state.granularity })).then(function (t) {
      chart("chart-trend").setOption(option({
        tooltip: { trigger: "axis", formatter: function (items) {
          var i = items[0].dataIndex;
          return t.labels[i] + "<br>本期 " + number(t.counts[i]) + " 件<br>去年同期 " + number(t.last_year[i]) + " 件<br>" + yoyText(t.changes[i]);
        } },
        legend: { data: ["本期", "去年同期"], top: 0 },
        grid: { left: 48, right: 16, top: 32, bottom: 40 },
        xAxis: { type: "category", data: t.labels },
        yAxis: { type: "value", minInterval: 1 },
        series: [
          { name: "本期", type: "line", data: t.counts, itemStyle: { color: "#0b5cad" }, areaStyle: { opacity: 0.12 } },
          { name: "去年同期", type: "line", data: t.last_year, lineStyle: { type: "dashed" }, itemStyle: { color: "#8a949e" } },
        ],
      }), true);
    });
  }
  document.querySelectorAll("[data-granularity]").forEach(function (button) {
    button.addEventListener("click", function () { state.granularity = button.dataset.granularity; loadTrend(); });
  });

  function bars(id, rows, value, label, formatter, colour) {
    var el = document.getElementById(id);
    if (!rows.length) {
      if (charts[id]) { charts[id].dispose(); delete charts[id]; }
      el.innerHTML = '<p class="empty">本时段暂无数据</p>';
      return;
    }
    if (!charts[id]) el.innerHTML = "";
    if (el.classList.contains("dash-rank")) el.style.height = Math.max(160, rows.length * 26 + 40) + "px";
    var ordered = rows.slice().reverse();
    var c = chart(id);
    c.resize();
    c.setOption(option({
      tooltip: { trigger: "item", formatter: function (p) { return formatter(ordered[p.dataIndex]); } },
      grid: { left: 8, right: 56, top: 8, bottom: 8, containLabel: true },
      xAxis: { type: "value", show: false, max: value === "rate" ? 1 : null },
      yAxis: { type: "category", data: ordered.map(function (r) { return r[label]; }), axisTick: { show: false } },
      series: [{ type: "bar", data: ordered.map(function (r) { return r[value]; }), itemStyle: { color: colour },
        label: { show: true, position: "right", formatter: function (p) {
          return value === "rate" ? percent(p.value) : number(p.value);
        } } }],
    }), true);
  }
  function loadMix() {
    return getJSON("/dashboard/data/mix?" + query()).then(function (m) {
      bars("chart-types", m.types, "count", "label", function (r) {
        return r.label + "：" + number(r.count) + " 件，" + yoyText(r.yoy);
      }, "#0b5cad");
      var el = document.getElementById("chart-channels");
      if (!m.channels.length) { bars("chart-channels", [], "count", "label"); return; }
      if (!charts["chart-channels"]) el.innerHTML = "";
      chart("chart-channels").setOption(option({
        tooltip: { trigger: "item", formatter: "{b}：{c} 件（{d}%）" },
        legend: { type: "scroll", bottom: 0 },
        series: [{ type: "pie", radius: ["38%", "68%"], center: ["50%", "45%"],
          data: m.channels.map(function (r) { return { name: r.label, value: r.count }; }),
          label: { formatter: "{b}\n{d}%" } }],
      }), true);
    });
  }
  function loadRankings() {
    return getJSON("/dashboard/data/rankings?" + query()).then(function (r) {
      var tip = function (row) { return row.name + "：按期结案 " + row.on_time + " / 应结 " + row.due + " = " + percent(row.rate); };
      bars("chart-rank-departments", r.departments, "rate", "name", tip, "#1a7f37");
      bars("chart-rank-streets", r.streets, "rate", "name", tip, "#0b7285");
    });
  }

  // ---- the period -------------------------------------------------------------------------
  function loadAll() {
    current.hot = null;
    var jobs = [loadSummary(), drawLevel(), loadTrend(), loadMix(), loadRankings()];
    if (state.mode === "hotspot") jobs.push(loadHotspots());
    return Promise.all(jobs).catch(function () { gridgov.toast("部分数据加载失败，请刷新页面重试"); });
  }
  document.getElementById("f-period").addEventListener("change", function (e) {
    state.period = e.target.value;
    state.granularity = GRANULARITY_OF[state.period];
    history.replaceState(null, "", "/dashboard?period=" + encodeURIComponent(state.period));
    loadAll();
  });
  window.addEventListener("resize", function () {
    Object.keys(charts).forEach(function (id) { charts[id].resize(); });
    map.invalidateSize();
    fit();
  });
  loadAll();
})();
