package render

// pageHTML is the page every tab keeps loaded. ECharts is loaded once per tab; each render then
// only pushes an option (rendering.md: 55 ms against 140 ms for a navigation per chart).
//
// rollcallRender(option, width, height) resolves to a PNG data URL:
//   - The `finished` listener is registered before setOption: with animation off ECharts fires
//     `finished` inside setOption, so a listener added afterwards would wait forever.
//   - The chart is disposed and re-initialised per render at the exact pixel size, so no state
//     (zoom, legend selection, an earlier chart's series) leaks from one render to the next.
//   - getDataURL gets an explicit white background; without it the PNG is transparent and
//     Discord's dark theme shows black text on dark grey.
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
  var chart = null;
  window.rollcallRender = function (option, width, height) {
    return new Promise(function (resolve, reject) {
      if (chart) { chart.dispose(); chart = null; }
      el.style.width = width + 'px';
      el.style.height = height + 'px';
      var c = echarts.init(el, null, {renderer: 'canvas', width: width, height: height, devicePixelRatio: 1});
      chart = c;
      var done = false;
      c.on('finished', function () {
        if (done) return;
        done = true;
        try {
          resolve(c.getDataURL({type: 'png', pixelRatio: 1, backgroundColor: '#ffffff'}));
        } catch (e) { reject(e); }
      });
      try {
        c.setOption(revive(option), true);
      } catch (e) { done = true; reject(e); }
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
