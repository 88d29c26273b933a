/* landplan: the alternatives map. Switches the alternative shown from the side-by-side table's buttons.
   Every text from the data is put in as text (textContent), never as HTML. */
(function () {
  "use strict";

  function tip(text) {
    var el = document.createElement("div");
    el.textContent = text;
    return el;
  }

  function start(map, data) {
    var groups = [];
    var outlines = [];
    data.alternatives.forEach(function (a) {
      var g = L.featureGroup();
      L.geoJSON(a.takes, {
        style: function (f) {
          return {color: "#333333", weight: 0.3, fillColor: data.landuse[f.properties.lu] || "#cccccc", fillOpacity: 0.85};
        },
        onEachFeature: function (f, layer) {
          var p = f.properties;
          layer.bindTooltip(function () {
            return tip(a.label + " · " + p.parcel + " · " + p.lu + " " + p.name + " · " + data.taken + " " + p.area);
          }, {sticky: true});
        }
      }).addTo(g);
      L.geoJSON(a.footprint, {style: {color: a.color, weight: 3, fill: false}, interactive: false}).addTo(g);
      groups.push(g);
      outlines.push(L.geoJSON(a.footprint, {style: {color: a.color, weight: 1.5, dashArray: "5 5", fill: false}, interactive: false}));
    });
    var current = 0;
    var box = document.getElementById("lp-alt-outlines");
    var buttons = Array.prototype.slice.call(document.querySelectorAll(".lp-alt-btn"));

    function show(k) {
      current = k;
      groups.forEach(function (g, j) {
        if (j === k) { g.addTo(map); } else { map.removeLayer(g); }
      });
      outlines.forEach(function (o, j) {
        if (j !== k && box && box.checked) { o.addTo(map); } else { map.removeLayer(o); }
      });
      buttons.forEach(function (b) {
        var on = Number(b.getAttribute("data-alt")) === k;
        b.setAttribute("aria-pressed", on ? "true" : "false");
        b.parentNode.classList.toggle("lp-on", on);
      });
      Array.prototype.forEach.call(document.querySelectorAll(".lp-alt-table td"), function (td) {
        td.classList.toggle("lp-on", Number(td.getAttribute("data-alt")) === k);
      });
    }

    buttons.forEach(function (b) {
      b.addEventListener("click", function () { show(Number(b.getAttribute("data-alt"))); });
    });
    if (box) { box.addEventListener("change", function () { show(current); }); }
    map.fitBounds(data.bounds, {padding: [20, 20]});
    show(0);
    window.LandplanAlternatives.shown = function () { return current; };
  }

  window.LandplanAlternatives = {start: start};
})();
