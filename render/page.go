package render

// pageHTML is the page every tab keeps loaded. ECharts is loaded once per tab; each render then
// only pushes an option (rendering.md: 55 ms against 140 ms for a navigation per chart).
//
// rollcallRender(option, width, height) resolves to a PNG data URL:
//   - The `finished` listener is registered before setOption: with animation off ECharts fires
//     `finished` inside setOption, so a listener added afterwards would wait forever.
//   - One ECharts instance per tab is reused (resized when the size changes) and every option is
//     set with notMerge, so nothing of an earlier chart leaks into the next; re-creating the
//     instance per render cost about 25 ms more.
//   - The PNG comes straight from the chart's canvas, whose background the option paints white.
//   - go-echarts marshals JavaScript functions (types.FuncStr, e.g. a custom series' renderItem
//     or an axis label formatter) as strings wrapped in "__f__" markers and unwraps them in its
//     HTML template. We push JSON instead of its HTML, so revive() unwraps them here, but only
//     under the keys our own Go code sets functions on: member names are data and land under
//     other keys ("data", "text"), so a name that happens to contain "__f__" stays a string.
const pageHTML = `<!doctype html>
<html><head><meta charset="utf-8"><title>rollcall chart</title>
<style>html,body{margin:0;padding:0;background:#fff}#chart{width:1100px;height:600px}</style>
<script src="/echarts.min.js"></script>
</head><body><div id="chart"></div>
<script>
(function () {
  var FUNC_KEYS = {renderItem: true, formatter: true};
  function revive(o) {
    if (Array.isArray(o)) { for (var i = 0; i < o.length; i++) { if (o[i] && typeof o[i] === 'object') revive(o[i]); } return o; }
    for (var k in o) {
      var v = o[k];
      if (typeof v === 'string' && FUNC_KEYS[k] && v.length > 10 && v.slice(0, 5) === '__f__' && v.slice(-5) === '__f__') {
        o[k] = (0, eval)('(' + v.slice(5, -5) + ')');
      } else if (v && typeof v === 'object') {
        revive(v);
      }
    }
    return o;
  }
  var el = document.getElementById('chart');
  var chart = null, pending = null;
  function png() {
    // The option paints its own white background (go-echarts' Initialization.BackgroundColor), so
    // the one canvas already is the image: reading it skips getDataURL's repaint into a second
    // canvas (about 55 against 80 ms per render, measured). Anything but exactly one canvas
    // (a layer with its own zlevel) goes through getDataURL with an explicit white background:
    // without one the PNG is transparent and Discord's dark theme shows dark text on dark grey.
    var canvases = el.getElementsByTagName('canvas');
    if (canvases.length === 1) return canvases[0].toDataURL('image/png');
    return chart.getDataURL({type: 'png', pixelRatio: 1, backgroundColor: '#ffffff'});
  }
  window.rollcallRender = function (option, width, height) {
    return new Promise(function (resolve, reject) {
      if (!chart) {
        el.style.width = width + 'px';
        el.style.height = height + 'px';
        chart = echarts.init(el, null, {renderer: 'canvas', width: width, height: height, devicePixelRatio: 1});
        // Registered before any setOption: with animation off ECharts fires 'finished' inside
        // setOption, so a listener added afterwards would wait forever.
        chart.on('finished', function () {
          var p = pending;
          pending = null;
          if (p) p();
        });
      } else if (chart.getWidth() !== width || chart.getHeight() !== height) {
        chart.clear(); // so the resize does not repaint the previous chart at the new size
        el.style.width = width + 'px';
        el.style.height = height + 'px';
        chart.resize({width: width, height: height});
      }
      pending = function () {
        try { resolve(png()); } catch (e) { reject(e); }
      };
      try {
        // notMerge: nothing of the previous chart (series, axes, legend state) survives.
        chart.setOption(revive(option), true);
      } catch (e) {
        pending = null;
        // A throw can leave the instance half-updated; start from a fresh one next time.
        try { chart.dispose(); } catch (e2) {}
        chart = null;
        reject(e);
      }
    });
  };
  // rollcallWarm draws a small chart with Latin, Cyrillic and emoji text so the fonts (the emoji
  // font is loaded lazily) and the JIT are warm before the first real render.
  window.rollcallWarm = function () {
    return window.rollcallRender({
      animation: false,
      title: {text: 'warm up Алексей 🎮 Zoë ⚔️'},
      xAxis: {type: 'category', data: ['a', 'б', '🎮']},
      yAxis: {type: 'value'},
      series: [{type: 'bar', data: [1, 2, 3]}]
    }, 300, 200);
  };
})();
</script>
</body></html>
`
