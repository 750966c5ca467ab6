/* The dashboards' charts (ECharts, vendored in static/vendor) and the leaders' tabs.
 *
 * The figures come from the page itself (json_script "dashboard-data", the same dictionary the API
 * returns) and the words from "dashboard-config", so this file holds no text. Every chart has the
 * same figures in a table next to it: without JavaScript the page still says everything. */
(function () {
  "use strict";

  setupTabs();
  setupSorting();

  var dataElement = document.getElementById("dashboard-data");
  var configElement = document.getElementById("dashboard-config");
  if (!dataElement || !configElement || !window.echarts) {
    return;
  }
  var data = JSON.parse(dataElement.textContent);
  var config = JSON.parse(configElement.textContent);
  var L = config.labels;
  var lang = document.documentElement.lang || "zh-CN";
  var year = data.round.year;
  var chinese = lang.indexOf("zh") === 0;
  var COLON = chinese ? "：" : ": ";

  function paren(text) {
    return chinese ? "（" + text + "）" : " (" + text + ")";
  }

  var BLUE = "#1b4f8f";
  var BLUE_SCALE = ["#e8f0fa", "#9fbfe3", "#4a7fc1", "#1b4f8f", "#0e2f57"];
  var GREEN_SCALE = ["#fdf1dc", "#f3d28a", "#9ccc8f", "#3f9b58", "#1e6b34"];
  var REGION_COLORS = { east: "#1b4f8f", central: "#4f9fb8", west: "#d4952b" };
  var GREY = "#c3c9d1";
  var PALE_BLUE = "#9fbfe3";
  var RED = "#c8102e";
  var TEXT = "#262d35";
  var MUTED = "#5b6571";
  var FONT = window.getComputedStyle(document.body).fontFamily;

  var charts = [];

  function init(element) {
    var chart = window.echarts.init(element, null, { renderer: "canvas" });
    charts.push(chart);
    return chart;
  }

  var resizeTimer = null;
  window.addEventListener("resize", function () {
    window.clearTimeout(resizeTimer);
    resizeTimer = window.setTimeout(function () {
      charts.forEach(function (chart) { chart.resize(); });
    }, 150);
  });

  function escapeHtml(text) {
    return String(text).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  function fmt(value, decimals) {
    if (value === null || value === undefined) {
      return "—";
    }
    return Number(value).toLocaleString(lang, {
      minimumFractionDigits: decimals,
      maximumFractionDigits: decimals
    });
  }

  function withUnit(value, decimals, unit) {
    if (value === null || value === undefined) {
      return "—";
    }
    return unit === "%" ? fmt(value, decimals) + "%" : fmt(value, decimals) + " " + unit;
  }

  function provinceUrl(code) {
    return config.provinceUrl.replace("000000", code) + "?round=" + year;
  }

  var baseText = { fontFamily: FONT, color: TEXT };

  // ----------------------------------------------------------------------------------------------
  // The map of China
  // ----------------------------------------------------------------------------------------------
  function drawMap() {
    var element = document.getElementById("china-map");
    if (!element || !data.provinces) {
      return;
    }
    var chart = init(element);
    chart.showLoading({ text: "", color: BLUE, maskColor: "rgba(255,255,255,0.6)" });
    var byName = {};
    data.provinces.forEach(function (p) { byName[p.short_name] = p; });
    var buttons = Array.prototype.slice.call(document.querySelectorAll("[data-map-metric] button"));
    var maxNamed = Math.max.apply(null, data.provinces.map(function (p) { return p.named; }).concat([1]));

    function option(metric) {
      var named = metric === "named";
      return {
        textStyle: baseText,
        tooltip: {
          trigger: "item",
          confine: true,
          formatter: function (params) {
            var p = byName[params.name];
            if (!p) {
              return params.name === "南海诸岛" ? "" : escapeHtml(params.name) + "<br>" + escapeHtml(L.noData);
            }
            return (
              "<strong>" + escapeHtml(p.name) + "</strong><br>" +
              escapeHtml(L.named) + COLON + p.named + paren(escapeHtml(L.namedInRound) + " " + p.named_in_round) + "<br>" +
              escapeHtml(L.units) + COLON + p.units + "<br>" +
              escapeHtml(L.reported) + COLON + p.reported + paren(fmt(p.progress, 1) + "%") + "<br>" +
              "<span style=\"color:" + MUTED + "\">" + escapeHtml(L.open) + "</span>"
            );
          }
        },
        visualMap: {
          type: "continuous",
          min: 0,
          max: named ? maxNamed : 100,
          left: 8,
          bottom: 8,
          itemHeight: 110,
          itemWidth: 12,
          calculable: false,
          text: named ? [String(maxNamed), "0"] : ["100%", "0%"],
          textStyle: { color: MUTED, fontFamily: FONT },
          inRange: { color: named ? BLUE_SCALE : GREEN_SCALE }
        },
        series: [
          {
            type: "map",
            map: "china",
            name: named ? L.named : L.progress,
            roam: false,
            top: 8,
            bottom: 8,
            left: 56,
            right: 8,
            selectedMode: false,
            label: { show: false },
            // Areas without figures (Taiwan, Hong Kong, Macau) in a neutral grey, distinct from the
            // palest colour of the scale, which means zero.
            itemStyle: { areaColor: "#d5d9de", borderColor: "#ffffff", borderWidth: 0.8 },
            emphasis: {
              label: { show: true, color: TEXT, fontFamily: FONT },
              itemStyle: { areaColor: "#ffd66b", borderColor: "#7a5300", borderWidth: 1 }
            },
            data: data.provinces.map(function (p) {
              return { name: p.short_name, value: named ? p.named : (p.progress === null ? 0 : p.progress), code: p.code };
            }).concat([{ name: "南海诸岛", itemStyle: { areaColor: "#9aa3ad", borderColor: "#9aa3ad" }, emphasis: { disabled: true } }])
          }
        ]
      };
    }

    window.fetch(config.mapUrl, { credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("map data: HTTP " + response.status);
        }
        return response.json();
      })
      .then(function (geoJson) {
        // Registered as "china": ECharts then draws the South China Sea islands inset itself.
        window.echarts.registerMap("china", geoJson);
        chart.hideLoading();
        chart.setOption(option("named"));
        element.setAttribute("data-rendered", "named");
        chart.on("click", function (params) {
          if (params.data && params.data.code) {
            window.location.href = provinceUrl(params.data.code);
          }
        });
        buttons.forEach(function (button) {
          button.addEventListener("click", function () {
            var metric = button.getAttribute("data-metric");
            buttons.forEach(function (b) { b.setAttribute("aria-pressed", String(b === button)); });
            chart.setOption(option(metric), { replaceMerge: ["series", "visualMap"] });
            element.setAttribute("data-rendered", metric);
          });
        });
      })
      .catch(function (error) {
        chart.hideLoading();
        element.classList.add("chart-failed");
        throw error;
      });
  }

  // ----------------------------------------------------------------------------------------------
  // Gigabit Cities by batch: bars per batch (by region on the national page) and the cumulative line
  // ----------------------------------------------------------------------------------------------
  function drawBatches() {
    var element = document.getElementById("batch-chart");
    if (!element || !data.batches || !data.batches.length) {
      return;
    }
    var years = data.batches.map(function (b) { return String(b.year); });
    var series;
    if (data.scope.level === "national") {
      series = ["east", "central", "west"].map(function (region) {
        return {
          name: L[region],
          type: "bar",
          stack: "named",
          barMaxWidth: 36,
          itemStyle: { color: REGION_COLORS[region] },
          data: data.batches.map(function (b) { return b.by_region[region]; })
        };
      });
    } else {
      series = [{
        name: L.named,
        type: "bar",
        barMaxWidth: 36,
        itemStyle: { color: BLUE },
        data: data.batches.map(function (b) { return b.named; })
      }];
    }
    series.push({
      name: L.cumulative,
      type: "line",
      symbolSize: 7,
      itemStyle: { color: RED },
      lineStyle: { width: 2 },
      label: { show: true, position: "top", color: RED, fontWeight: "bold" },
      data: data.batches.map(function (b) { return b.cumulative; })
    });
    init(element).setOption({
      textStyle: baseText,
      animation: false,
      grid: { left: 40, right: 16, top: 40, bottom: 28 },
      legend: { top: 0, textStyle: { fontFamily: FONT, color: TEXT } },
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      xAxis: { type: "category", data: years, axisTick: { show: false } },
      yAxis: { type: "value", minInterval: 1, splitLine: { lineStyle: { color: "#eef0f3" } } },
      series: series
    });
  }

  // ----------------------------------------------------------------------------------------------
  // Histograms: one small chart per indicator, bins as rectangles on a value axis
  // ----------------------------------------------------------------------------------------------
  function drawHistograms() {
    var byCode = {};
    (data.distribution || []).forEach(function (d) { byCode[d.code] = d; });
    document.querySelectorAll("[data-histogram]").forEach(function (element) {
      var d = byCode[element.getAttribute("data-histogram")];
      if (!d || !d.bins.length) {
        return;
      }
      var low = d.bins[0].from;
      var high = d.bins[d.bins.length - 1].to;
      [d.threshold, d.mean].forEach(function (v) {
        if (v !== null && v !== undefined) {
          low = Math.min(low, v);
          high = Math.max(high, v);
        }
      });
      var pad = (d.bins[0].to - d.bins[0].from) * 0.5;
      var axisMin = low - (low < d.bins[0].from ? pad : 0);
      var axisMax = high + (high > d.bins[d.bins.length - 1].to ? pad : 0);
      var marks = [];
      if (d.threshold !== null && d.threshold !== undefined) {
        // The label runs from the line towards the middle of the chart: centred on a line near an
        // edge, half of it would fall outside the canvas ("reshold 30.0").
        var leftHalf = (d.threshold - axisMin) / ((axisMax - axisMin) || 1) < 0.5;
        marks.push({
          xAxis: d.threshold,
          lineStyle: { color: RED, type: "solid", width: 2 },
          label: {
            formatter: L.threshold + " " + fmt(d.threshold, d.decimals),
            color: RED,
            fontFamily: FONT,
            align: leftHalf ? "left" : "right",
            padding: leftHalf ? [0, 0, 0, 2] : [0, 2, 0, 0]
          }
        });
      }
      if (d.mean !== null && d.mean !== undefined) {
        // Unlabelled: the mean is written in the chart's caption, where it cannot hide a bar.
        marks.push({ xAxis: d.mean, lineStyle: { color: TEXT, type: "dashed", width: 1.5 }, label: { show: false } });
      }
      var compact = d.decimals === 0 && high >= 10000;
      init(element).setOption({
        textStyle: baseText,
        animation: false,
        grid: { left: 34, right: 14, top: 26, bottom: 24 },
        tooltip: {
          trigger: "item",
          formatter: function (params) {
            var b = d.bins[params.dataIndex];
            if (!b) {
              return "";
            }
            return withUnit(b.from, d.decimals, d.unit) + " – " + withUnit(b.to, d.decimals, d.unit) + "<br>" +
              escapeHtml(L.cities) + COLON + "<strong>" + b.count + "</strong>";
          }
        },
        xAxis: {
          type: "value",
          min: axisMin,
          max: axisMax,
          splitLine: { show: false },
          axisLabel: {
            color: MUTED,
            hideOverlap: true,
            formatter: function (v) {
              return compact ? Number(v).toLocaleString(lang, { notation: "compact" }) : fmt(v, v % 1 ? 1 : 0);
            }
          }
        },
        yAxis: { type: "value", minInterval: 1, splitLine: { lineStyle: { color: "#eef0f3" } }, axisLabel: { color: MUTED } },
        series: [
          {
            type: "custom",
            data: d.bins.map(function (b) { return [b.from, b.to, b.count]; }),
            encode: { x: [0, 1], y: 2 },
            renderItem: function (params, api) {
              var start = api.coord([api.value(0), api.value(2)]);
              var end = api.coord([api.value(1), 0]);
              var fill = BLUE;
              if (d.threshold !== null && d.threshold !== undefined) {
                if (api.value(1) <= d.threshold) {
                  fill = GREY;
                } else if (api.value(0) < d.threshold) {
                  fill = PALE_BLUE;
                }
              }
              return {
                type: "rect",
                shape: { x: start[0] + 1, y: start[1], width: Math.max(end[0] - start[0] - 2, 1), height: end[1] - start[1] },
                style: { fill: fill }
              };
            }
          },
          {
            type: "line",
            data: [],
            silent: true,
            markLine: { symbol: "none", silent: true, animation: false, data: marks }
          }
        ]
      });
    });
  }

  // ----------------------------------------------------------------------------------------------
  // Province against the thresholds and the nation (means as a share of each threshold)
  // ----------------------------------------------------------------------------------------------
  function drawComparison() {
    var element = document.getElementById("compare-chart");
    if (!element || !data.indicators) {
      return;
    }
    var rows = data.indicators.filter(function (r) { return r.threshold; });
    function relative(value, row) {
      return value === null || value === undefined ? null : Math.round((value / row.threshold) * 1000) / 10;
    }
    init(element).setOption({
      textStyle: baseText,
      animation: false,
      grid: { left: 8, right: 24, top: 44, bottom: 8, containLabel: true },
      legend: { top: 0, textStyle: { fontFamily: FONT, color: TEXT } },
      tooltip: {
        trigger: "axis",
        axisPointer: { type: "shadow" },
        formatter: function (items) {
          var row = rows[items[0].dataIndex];
          var lines = ["<strong>" + escapeHtml(row.name) + "</strong>", escapeHtml(L.threshold) + COLON + withUnit(row.threshold, row.decimals, row.unit)];
          lines.push(escapeHtml(L.province) + COLON + withUnit(row.reported_mean, row.decimals, row.unit));
          lines.push(escapeHtml(L.national) + COLON + withUnit(row.national_reported_mean, row.decimals, row.unit));
          return lines.join("<br>");
        }
      },
      xAxis: { type: "value", axisLabel: { formatter: "{value}", color: MUTED }, splitLine: { lineStyle: { color: "#eef0f3" } }, name: L.relative, nameLocation: "middle", nameGap: 0, nameTextStyle: { color: "transparent" } },
      yAxis: { type: "category", inverse: true, data: rows.map(function (r) { return r.name; }), axisLabel: { color: TEXT, width: 170, overflow: "truncate" }, axisTick: { show: false } },
      series: [
        {
          name: L.province,
          type: "bar",
          barMaxWidth: 12,
          itemStyle: { color: BLUE },
          data: rows.map(function (r) { return relative(r.reported_mean, r); }),
          markLine: {
            symbol: "none",
            silent: true,
            data: [{ xAxis: 100, lineStyle: { color: RED, width: 2 }, label: { formatter: L.threshold, color: RED, position: "start", distance: 6 } }]
          }
        },
        {
          name: L.national,
          type: "bar",
          barMaxWidth: 12,
          itemStyle: { color: GREY },
          data: rows.map(function (r) { return relative(r.national_reported_mean, r); })
        }
      ]
    });
  }

  // ----------------------------------------------------------------------------------------------
  // Progress over time (burn-up): cumulative forms per stage and day, the deadline as a red line;
  // on the national page a list picks the nation, a region or a province
  // ----------------------------------------------------------------------------------------------
  function drawProgress() {
    var element = document.getElementById("progress-chart");
    var p = data.progress;
    if (!element || !p || !p.days.length) {
      return;
    }
    var STAGE_COLORS = { started: GREY, submitted: PALE_BLUE, recommended: BLUE, decided: RED };
    var chart = init(element);
    function block(key) {
      if (key === "total") {
        return p.total;
      }
      var parts = key.split(":");
      var list = parts[0] === "region" ? p.regions : p.provinces;
      for (var i = 0; i < list.length; i += 1) {
        if (list[i].code === parts[1]) {
          return list[i];
        }
      }
      return p.total;
    }
    function option(key) {
      var b = block(key);
      var marks = [];
      if (p.deadline && p.days.indexOf(p.deadline) >= 0) {
        marks.push({
          xAxis: p.deadline,
          lineStyle: { color: RED, type: "solid", width: 2 },
          label: { formatter: L.deadline + " " + p.deadline, color: RED, fontFamily: FONT, position: "insideEndTop" }
        });
      }
      if (p.today !== p.deadline && p.days.indexOf(p.today) >= 0) {
        marks.push({
          xAxis: p.today,
          lineStyle: { color: MUTED, type: "dashed", width: 1 },
          label: { formatter: L.today, color: MUTED, fontFamily: FONT, position: "insideEndBottom" }
        });
      }
      marks.push({
        yAxis: b.units,
        lineStyle: { color: TEXT, type: "dotted", width: 1 },
        label: { formatter: L.units + " " + b.units, color: TEXT, fontFamily: FONT, position: "insideStartTop" }
      });
      var series = p.stages.map(function (stage) {
        return {
          name: L["stage_" + stage],
          type: "line",
          step: "end",
          symbol: "none",
          lineStyle: { width: stage === "decided" ? 2.5 : 2, color: STAGE_COLORS[stage] },
          itemStyle: { color: STAGE_COLORS[stage] },
          data: b[stage]
        };
      });
      series.push({ type: "line", data: [], silent: true, markLine: { symbol: "none", silent: true, animation: false, data: marks } });
      return {
        textStyle: baseText,
        animation: false,
        grid: { left: 44, right: 20, top: 40, bottom: 28 },
        legend: { top: 0, textStyle: { fontFamily: FONT, color: TEXT } },
        tooltip: { trigger: "axis" },
        xAxis: { type: "category", data: p.days, boundaryGap: false, axisLabel: { color: MUTED, hideOverlap: true } },
        // The scope of a burn-up: the units that owe a form, as the top line of the chart.
        yAxis: { type: "value", minInterval: 1, max: Math.max(b.units, 1), axisLabel: { color: MUTED, showMaxLabel: false }, splitLine: { lineStyle: { color: "#eef0f3" } } },
        series: series
      };
    }
    var shown = "total";
    function show(key) {
      chart.setOption(option(key), { replaceMerge: ["series"] });
      element.setAttribute("data-rendered", key);
      element.classList.remove("is-loading");
      shown = key;
    }
    // The national page carries the nation's and the regions' series; a province's is asked of its
    // API the first time it is picked (the same figures as on its own dashboard), then kept.
    var select = document.querySelector("[data-progress-scope]");
    var status = document.querySelector("[data-progress-status]");
    var asking = 0; // the latest request: an earlier one's answer is not drawn
    function say(text) {
      if (status) {
        status.textContent = text;
        status.hidden = !text;
      }
    }
    function failed(ticket) {
      if (ticket !== asking) {
        return;
      }
      asking += 1;
      // The list goes back to what the chart still shows, so that choosing the province again asks again.
      select.value = shown;
      element.classList.remove("is-loading");
      element.setAttribute("data-rendered", "failed");
      say(L.progressFailed);
    }
    function load(key, b) {
      var url = config.provinceProgressUrl.replace("000000", encodeURIComponent(b.code)) + "?round=" + encodeURIComponent(year);
      var ticket = (asking += 1);
      say(L.loading);
      element.classList.add("is-loading");
      element.setAttribute("data-rendered", "loading");
      window.setTimeout(function () { failed(ticket); }, 30000);
      window.fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) {
          if (!response.ok) {
            throw new Error(String(response.status));
          }
          return response.json();
        })
        .then(function (answer) {
          var mine = answer.provinces && answer.provinces[0];
          if (!mine || !answer.days) {
            throw new Error("no province in the answer");
          }
          // Day by day on this page's days (the answer is as of now, the page as of its figures).
          var place = {};
          answer.days.forEach(function (day, i) { place[day] = i; });
          var lines = {};
          p.stages.forEach(function (stage) {
            lines[stage] = p.days.map(function (day) {
              return day in place ? mine[stage][place[day]] : null;
            });
          });
          p.stages.forEach(function (stage) { b[stage] = lines[stage]; });
          if (ticket === asking) {
            asking += 1;
            say("");
            show(key);
          }
        })
        .catch(function () { failed(ticket); });
    }
    show("total");
    if (select) {
      select.addEventListener("change", function () {
        var key = select.value;
        var b = block(key);
        if (key.indexOf("province:") === 0 && !b[p.stages[0]]) {
          load(key, b);
          return;
        }
        asking += 1; // a province still being asked for is no longer wanted
        say("");
        show(key);
      });
    }
  }

  drawMap();
  drawBatches();
  drawProgress();
  drawHistograms();
  drawComparison();
  document.documentElement.setAttribute("data-charts", String(charts.length));

  // ----------------------------------------------------------------------------------------------
  // Sortable tables: a button in each header; numbers sort as numbers, empty cells always last
  // ----------------------------------------------------------------------------------------------
  function setupSorting() {
    document.querySelectorAll("table[data-sortable]").forEach(function (table) {
      var headers = Array.prototype.slice.call(table.querySelectorAll("thead th"));
      var body = table.tBodies[0];
      function key(row, index) {
        var cell = row.cells[index];
        var raw = cell.hasAttribute("data-value") ? cell.getAttribute("data-value") : cell.textContent.trim();
        var number = parseFloat(raw.replace(/[,%\s]/g, ""));
        return { empty: raw === "" || raw === "—", number: isNaN(number) ? null : number, text: raw };
      }
      headers.forEach(function (th, index) {
        var button = document.createElement("button");
        button.type = "button";
        button.className = "sort-button";
        while (th.firstChild) {
          button.appendChild(th.firstChild);
        }
        th.appendChild(button);
        button.addEventListener("click", function () {
          var descending = th.getAttribute("aria-sort") !== "descending";
          headers.forEach(function (other) { other.removeAttribute("aria-sort"); });
          th.setAttribute("aria-sort", descending ? "descending" : "ascending");
          var rows = Array.prototype.slice.call(body.rows);
          rows.sort(function (a, b) {
            var x = key(a, index);
            var y = key(b, index);
            if (x.empty !== y.empty) { return x.empty ? 1 : -1; }
            var order = x.number !== null && y.number !== null ? x.number - y.number : x.text.localeCompare(y.text, lang);
            return descending ? -order : order;
          });
          rows.forEach(function (row) { body.appendChild(row); });
        });
      });
    });
  }

  // ----------------------------------------------------------------------------------------------
  // Tabs (WAI-ARIA pattern): without JavaScript every panel simply shows, one after the other
  // ----------------------------------------------------------------------------------------------
  function setupTabs() {
    document.querySelectorAll("[data-tabs]").forEach(function (container) {
      var tabs = Array.prototype.slice.call(container.querySelectorAll("[role=tab]"));
      function select(tab, focus) {
        tabs.forEach(function (t) {
          var selected = t === tab;
          t.setAttribute("aria-selected", String(selected));
          t.tabIndex = selected ? 0 : -1;
          document.getElementById(t.getAttribute("aria-controls")).hidden = !selected;
        });
        if (focus) {
          tab.focus();
        }
      }
      tabs.forEach(function (tab, index) {
        tab.addEventListener("click", function () { select(tab, false); });
        tab.addEventListener("keydown", function (event) {
          var next = null;
          if (event.key === "ArrowRight") { next = tabs[(index + 1) % tabs.length]; }
          if (event.key === "ArrowLeft") { next = tabs[(index - 1 + tabs.length) % tabs.length]; }
          if (event.key === "Home") { next = tabs[0]; }
          if (event.key === "End") { next = tabs[tabs.length - 1]; }
          if (next) {
            event.preventDefault();
            select(next, true);
          }
        });
      });
      container.classList.add("tabs-ready");
      if (tabs.length) {
        select(tabs[0], false);
      }
    });
  }
})();
