/* Console dashboard charts: each <canvas data-chart-config="ID"> is drawn with Chart.js from
   the JSON in <script id="ID" type="application/json"> (written by json_script). Money series
   use the main value axis and show ¥1,234.50; count series use a second axis. */
(function () {
  "use strict";
  if (typeof window.Chart === "undefined") {
    return; // Chart.js missing: the tables below each chart still show the numbers
  }
  var money = new Intl.NumberFormat("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  var count = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });
  var palette = ["#2563eb", "#f59e0b", "#10b981", "#ef4444", "#8b5cf6"];

  function formatValue(isMoney, value) {
    return isMoney ? "¥" + money.format(value) : count.format(value);
  }

  function draw(canvas) {
    var source = document.getElementById(canvas.getAttribute("data-chart-config"));
    if (!source) {
      return;
    }
    var config = JSON.parse(source.textContent);
    var valueAxis = config.horizontal ? "x" : "y";
    var anyMoney = config.datasets.some(function (d) { return d.money; });
    var anyCount = config.datasets.some(function (d) { return !d.money; });
    var datasets = config.datasets.map(function (d, i) {
      var color = palette[i % palette.length];
      var dataset = {
        label: d.label,
        data: d.data,
        money: d.money,
        backgroundColor: config.type === "line" ? color + "33" : color,
        borderColor: color,
        fill: config.type === "line" && i === 0,
        tension: 0.25,
      };
      dataset[valueAxis + "AxisID"] = d.money || !anyMoney ? valueAxis : valueAxis + "1";
      return dataset;
    });
    // Count axes tick at whole numbers only (precision 0: no "0.5 orders"); amount axes keep
    // Chart.js's own steps.
    function ticks(isMoney) {
      var options = { callback: function (v) { return formatValue(isMoney, v); } };
      if (!isMoney) {
        options.precision = 0;
      }
      return options;
    }
    var scales = {};
    scales[valueAxis] = { beginAtZero: true, ticks: ticks(anyMoney) };
    if (anyMoney && anyCount) {
      scales[valueAxis + "1"] = {
        beginAtZero: true,
        position: config.horizontal ? "top" : "right",
        grid: { drawOnChartArea: false },
        ticks: ticks(false),
      };
    }
    new window.Chart(canvas, {
      type: config.type,
      data: { labels: config.labels, datasets: datasets },
      options: {
        indexAxis: config.horizontal ? "y" : "x",
        maintainAspectRatio: false,
        responsive: true,
        scales: scales,
        plugins: {
          tooltip: {
            callbacks: {
              label: function (ctx) {
                return ctx.dataset.label + ": " + formatValue(ctx.dataset.money, ctx.raw);
              },
            },
          },
        },
      },
    });
  }

  function init() {
    document.querySelectorAll("canvas[data-chart-config]").forEach(draw);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
