/* landplan's map page: draws a run's results from the data landplan packed into the page
 * (landplan/packed.py) and gives a planner the tools of the map: layers, legend and summary in a
 * panel (a bottom sheet on narrow screens), popups that explain each parcel, search by parcel id,
 * owner and unit, measuring, print, CSV downloads, and a plain background when tiles cannot be
 * reached. Written for Leaflet 1.9; no build step; everything runs from the one HTML file.
 *
 * Every text from the data is put in the page as text (textContent), never as HTML.
 */
(function () {
  /** Text for the places where Leaflet takes HTML (layer names, tooltips): escaped, so it shows as text. */
  function escHtml(v) {
    return String(v).replace(/[&<>"']/g, function (c) { return {'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'}[c]; });
  }
  'use strict';

  var MERCATOR_R = 6378137;          // L.Projection.SphericalMercator.R
  var NARROW = '(max-width: 899px)';  // below this the panel is a bottom sheet and controls collapse

  // ---------------------------------------------------------------- helpers

  /** Numbers as the language writes them; the same rounding and output as landplan.numfmt.format_number. */
  function numberFormat(lang) {
    var thousands = lang === 'en' ? ',' : '.', point = lang === 'en' ? '.' : ',';
    return function (v, decimals, sign) {
      if (v === null || v === undefined || typeof v !== 'number' || !isFinite(v)) return '';
      var d = decimals === undefined ? 1 : decimals;
      var s = Math.abs(v).toFixed(d), parts = s.split('.');
      var text = parts[0].replace(/\B(?=(\d{3})+(?!\d))/g, thousands) + (d > 0 ? point + parts[1] : '');
      if (Number(s) === 0) return text;
      return (v < 0 ? '-' : sign ? '+' : '') + text;
    };
  }

  /** Text folded for matching: no diacritics, đ → d, lower case ("Nguyễn" matches "nguyen"). */
  function fold(s) {
    return String(s).normalize('NFD').replace(/[\u0300-\u036f]/g, '').replace(/[đĐ]/g, 'd').toLowerCase();
  }

  /** An element with attributes and children (strings become text nodes). */
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    if (attrs) for (var k in attrs) {
      if (attrs[k] === null || attrs[k] === undefined || attrs[k] === false) continue;
      if (k === 'text') node.textContent = attrs[k];
      else if (k === 'className') node.className = attrs[k];
      else node.setAttribute(k, attrs[k] === true ? '' : attrs[k]);
    }
    (children || []).forEach(function (c) {
      if (c === null || c === undefined) return;
      node.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
    });
    return node;
  }

  // ---------------------------------------------------------------- packed polygons

  /** Decode one layer's packed polygons (see packed.py) into typed arrays, with bounding boxes. */
  function decode(layer) {
    var n = layer.n, bin = atob(layer.geom), len = bin.length, bytes = new Uint8Array(len), i;
    for (i = 0; i < len; i++) bytes[i] = bin.charCodeAt(i);
    var pos = 0;
    function next() {
      var v = 0, mul = 1, b;
      do { b = bytes[pos++]; v += (b & 0x7f) * mul; mul *= 128; } while (b & 0x80);
      return v;
    }
    var ringStart = new Uint32Array(n + 1), nr = 0;
    for (i = 0; i < n; i++) { ringStart[i] = nr; nr += next(); }
    ringStart[n] = nr;
    var vertStart = new Uint32Array(nr + 1), nv = 0;
    for (i = 0; i < nr; i++) { vertStart[i] = nv; nv += next(); }
    vertStart[nr] = nv;
    var xy = new Float64Array(2 * nv), x = 0, y = 0, z;
    for (i = 0; i < nv; i++) {
      z = next(); x += (z % 2) ? -(z + 1) / 2 : z / 2;
      z = next(); y += (z % 2) ? -(z + 1) / 2 : z / 2;
      xy[2 * i] = x; xy[2 * i + 1] = y;
    }
    var bbox = new Float64Array(4 * n), area = new Float64Array(n);
    for (var f = 0; f < n; f++) {
      var x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity, a = 0;
      for (var r = ringStart[f]; r < ringStart[f + 1]; r++) {
        for (var v = vertStart[r], ve = vertStart[r + 1], u = ve - 1; v < ve; u = v++) {
          var vx = xy[2 * v], vy = xy[2 * v + 1];
          if (vx < x0) x0 = vx; if (vx > x1) x1 = vx; if (vy < y0) y0 = vy; if (vy > y1) y1 = vy;
          a += (xy[2 * u] - vx) * (xy[2 * u + 1] + vy);  // shoelace: outer rings add, holes subtract
        }
      }
      bbox[4 * f] = x0; bbox[4 * f + 1] = y0; bbox[4 * f + 2] = x1; bbox[4 * f + 3] = y1;
      area[f] = Math.abs(a) / 2;
    }
    return {n: n, ringStart: ringStart, vertStart: vertStart, xy: xy, bbox: bbox, area: area};
  }

  /** Feature f's rings as arrays of L.LatLng (g decoded; origin and unit as packed). */
  function featureLatLngs(g, origin, unit, f) {
    var out = [], P = L.Projection.SphericalMercator;
    for (var r = g.ringStart[f]; r < g.ringStart[f + 1]; r++) {
      var ring = [];
      for (var v = g.vertStart[r]; v < g.vertStart[r + 1]; v++) {
        ring.push(P.unproject(L.point(origin[0] + unit * g.xy[2 * v], origin[1] + unit * g.xy[2 * v + 1])));
      }
      out.push(ring);
    }
    return out;
  }

  /** A grid over the features' bounding boxes, for finding the feature under a point. */
  function gridIndex(g) {
    var n = g.n, X0 = Infinity, Y0 = Infinity, X1 = -Infinity, Y1 = -Infinity, f;
    for (f = 0; f < n; f++) {
      if (!(g.bbox[4 * f] <= g.bbox[4 * f + 2])) continue;  // no rings
      X0 = Math.min(X0, g.bbox[4 * f]); Y0 = Math.min(Y0, g.bbox[4 * f + 1]);
      X1 = Math.max(X1, g.bbox[4 * f + 2]); Y1 = Math.max(Y1, g.bbox[4 * f + 3]);
    }
    var side = Math.max(1, Math.min(1024, Math.ceil(Math.sqrt(n / 2))));
    var cw = Math.max((X1 - X0) / side, 1e-9), ch = Math.max((Y1 - Y0) / side, 1e-9);
    var counts = new Uint32Array(side * side + 1), big = [];
    function cells(f, visit) {
      var cx0 = Math.floor((g.bbox[4 * f] - X0) / cw), cy0 = Math.floor((g.bbox[4 * f + 1] - Y0) / ch);
      var cx1 = Math.min(side - 1, Math.floor((g.bbox[4 * f + 2] - X0) / cw)), cy1 = Math.min(side - 1, Math.floor((g.bbox[4 * f + 3] - Y0) / ch));
      if ((cx1 - cx0 + 1) * (cy1 - cy0 + 1) > 64) { big.push(f); return; }
      for (var cy = cy0; cy <= cy1; cy++) for (var cx = cx0; cx <= cx1; cx++) visit(cy * side + cx);
    }
    for (f = 0; f < n; f++) if (g.bbox[4 * f] <= g.bbox[4 * f + 2]) cells(f, function (c) { counts[c + 1]++; });
    for (var c = 0; c < side * side; c++) counts[c + 1] += counts[c];
    var fill = counts.slice(0, side * side), items = new Uint32Array(counts[side * side]);
    big = [];
    for (f = 0; f < n; f++) if (g.bbox[4 * f] <= g.bbox[4 * f + 2]) cells(f, function (c) { items[fill[c]++] = f; });
    return {X0: X0, Y0: Y0, cw: cw, ch: ch, side: side, start: counts, items: items, big: big};
  }

  /** True when (qx, qy) lies inside feature f (even-odd over all its rings). */
  function contains(g, f, qx, qy) {
    var inside = false;
    for (var r = g.ringStart[f]; r < g.ringStart[f + 1]; r++) {
      var v0 = g.vertStart[r], v1 = g.vertStart[r + 1];
      for (var i = v0, j = v1 - 1; i < v1; j = i++) {
        var xi = g.xy[2 * i], yi = g.xy[2 * i + 1], xj = g.xy[2 * j], yj = g.xy[2 * j + 1];
        if ((yi > qy) !== (yj > qy) && qx < (xj - xi) * (qy - yi) / (yj - yi) + xi) inside = !inside;
      }
    }
    return inside;
  }

  /**
   * A Path2D of the features (indexes in feats) whose box meets view (packed units), in layer pixels
   * through t (px = A*qx + bx, py = by - A*qy). Features smaller than two pixels become dots when
   * dots is true and are left out otherwise; so are features under minArea px²; vertices closer than
   * half a pixel to the last one drawn are skipped.
   */
  function shapes(g, feats, view, t, minArea, dots) {
    var path = new Path2D(), xy = g.xy, bbox = g.bbox, area = g.area, ringStart = g.ringStart, vertStart = g.vertStart;
    var A = t.A, bx = t.bx, by = t.by, A2 = A * A, x0 = view[0], y0 = view[1], x1 = view[2], y1 = view[3];
    for (var i = 0, n = feats.length; i < n; i++) {
      var f = feats[i], o = 4 * f;
      if (bbox[o] > x1 || bbox[o + 2] < x0 || bbox[o + 1] > y1 || bbox[o + 3] < y0) continue;
      var w = (bbox[o + 2] - bbox[o]) * A, h = (bbox[o + 3] - bbox[o + 1]) * A;
      if (w < 2 && h < 2) {
        if (dots) path.rect(A * bbox[o] + bx, by - A * bbox[o + 3], w < 1 ? 1 : w, h < 1 ? 1 : h);
        continue;
      }
      if (area[f] * A2 < minArea) continue;
      for (var r = ringStart[f], re = ringStart[f + 1]; r < re; r++) {
        var v = vertStart[r], ve = vertStart[r + 1];
        var sx = A * xy[2 * v] + bx, sy = by - A * xy[2 * v + 1], px = sx, py = sy;
        path.moveTo(sx, sy);
        for (v++; v < ve; v++) {
          var nx = A * xy[2 * v] + bx, ny = by - A * xy[2 * v + 1];
          if (v < ve - 1 && nx - px < 0.5 && px - nx < 0.5 && ny - py < 0.5 && py - ny < 0.5) continue;
          path.lineTo(nx, ny);
          px = nx; py = ny;
        }
        path.lineTo(sx, sy);  // back to the start: Chromium's closePath() costs time in proportion to the path so far
      }
    }
    return path;
  }

  /**
   * A layer of packed polygons drawn on its own canvas. Leaflet's Renderer base class places the
   * canvas and animates it while zooming; this class draws all features of one style as one path.
   */
  var PackedLayer = L.Renderer.extend({
    options: {padding: 0.1},

    initialize: function (geom, origin, unit, styles, classOf, options) {
      L.Renderer.prototype.initialize.call(this, options);
      this.g = geom; this.origin = origin; this.unit = unit; this.styles = styles;
      var byClass = styles.map(function () { return []; });
      for (var f = 0; f < geom.n; f++) byClass[classOf ? classOf(f) : 0].push(f);
      this.byClass = byClass.map(function (a) { return Uint32Array.from(a); });
      this._index = null;
    },

    _initContainer: function () {
      this._container = document.createElement('canvas');
      this._container.className = 'lp-canvas';
      this._ctx = this._container.getContext('2d');
    },

    _destroyContainer: function () {
      L.DomUtil.remove(this._container);
      delete this._ctx; delete this._container;
    },

    _update: function () {
      if (this._map._animatingZoom && this._bounds) return;
      L.Renderer.prototype._update.call(this);
      var b = this._bounds, c = this._container, size = b.getSize(), m = window.devicePixelRatio || 1;
      L.DomUtil.setPosition(c, b.min);
      c.width = Math.round(m * size.x); c.height = Math.round(m * size.y);
      c.style.width = size.x + 'px'; c.style.height = size.y + 'px';
      this._ctx.setTransform(m, 0, 0, m, -m * b.min.x, -m * b.min.y);
      this._draw();
    },

    /** Pixel transform at the current zoom: px = A*qx + bx, py = by - A*qy. */
    _transform: function () {
      var map = this._map, s = map.options.crs.scale(map.getZoom()), a = 0.5 / (Math.PI * MERCATOR_R);
      var o = map.getPixelOrigin();
      return {A: s * a * this.unit, bx: s * (a * this.origin[0] + 0.5) - o.x, by: s * (-a * this.origin[1] + 0.5) - o.y};
    },

    /**
     * Draw every feature in view, one style at a time: all fills of a style as one path, and the
     * outlines of the features large enough on screen (at least minPx² of area) as another, so a
     * zoomed-out view is not a mass of outlines. Features under two pixels are drawn as dots.
     */
    _draw: function () {
      var ctx = this._ctx, g = this.g, t = this._transform(), b = this._bounds;
      var view = [(b.min.x - t.bx) / t.A, (t.by - b.max.y) / t.A, (b.max.x - t.bx) / t.A, (t.by - b.min.y) / t.A];
      for (var k = 0; k < this.styles.length; k++) {
        var st = this.styles[k], feats = this.byClass[k];
        if (!feats.length) continue;
        if (st.fillOpacity > 0) {
          ctx.globalAlpha = st.fillOpacity; ctx.fillStyle = st.fillColor || st.color;
          ctx.fill(shapes(g, feats, view, t, 0, true), 'nonzero');
        }
        if (st.weight > 0) {
          ctx.globalAlpha = st.opacity === undefined ? 1 : st.opacity;
          ctx.lineWidth = st.weight; ctx.strokeStyle = st.color; ctx.lineJoin = 'round';
          ctx.stroke(shapes(g, feats, view, t, (st.minPx || 0) * (st.minPx || 0), false));
        }
      }
      ctx.globalAlpha = 1;
      this.fire('drawn');
    },

    /** The feature under a map point (L.LatLng), or -1. */
    hit: function (latlng) {
      if (!this._index) this._index = gridIndex(this.g);
      var ix = this._index, g = this.g, p = L.Projection.SphericalMercator.project(latlng);
      var qx = (p.x - this.origin[0]) / this.unit, qy = (p.y - this.origin[1]) / this.unit;
      var cx = Math.floor((qx - ix.X0) / ix.cw), cy = Math.floor((qy - ix.Y0) / ix.ch), cand = ix.big;
      if (cx >= 0 && cy >= 0 && cx < ix.side && cy < ix.side) {
        var c = cy * ix.side + cx;
        cand = Array.prototype.slice.call(ix.items, ix.start[c], ix.start[c + 1]).concat(ix.big);
      }
      for (var i = 0; i < cand.length; i++) {
        var f = cand[i];
        if (qx < g.bbox[4 * f] || qx > g.bbox[4 * f + 2] || qy < g.bbox[4 * f + 1] || qy > g.bbox[4 * f + 3]) continue;
        if (contains(g, f, qx, qy)) return f;
      }
      return -1;
    },

    /** A feature's rings as arrays of L.LatLng (for highlighting and zooming). */
    latlngs: function (f) { return featureLatLngs(this.g, this.origin, this.unit, f); },

    /** A feature's bounds (L.LatLngBounds). */
    featureBounds: function (f) {
      var g = this.g, o = this.origin, u = this.unit, P = L.Projection.SphericalMercator;
      return L.latLngBounds(P.unproject(L.point(o[0] + u * g.bbox[4 * f], o[1] + u * g.bbox[4 * f + 1])),
                            P.unproject(L.point(o[0] + u * g.bbox[4 * f + 2], o[1] + u * g.bbox[4 * f + 3])));
    },

    /** Features whose bounding box meets the L.LatLngBounds given. */
    within: function (bounds) {
      var P = L.Projection.SphericalMercator, o = this.origin, u = this.unit, g = this.g;
      var a = P.project(bounds.getSouthWest()), b = P.project(bounds.getNorthEast());
      var qx0 = (a.x - o[0]) / u, qy0 = (a.y - o[1]) / u, qx1 = (b.x - o[0]) / u, qy1 = (b.y - o[1]) / u, out = [];
      for (var f = 0; f < g.n; f++) {
        if (g.bbox[4 * f] > qx1 || g.bbox[4 * f + 2] < qx0 || g.bbox[4 * f + 1] > qy1 || g.bbox[4 * f + 3] < qy0) continue;
        out.push(f);
      }
      return out;
    },

    count: function () { return this.g.n; }
  });

  // ---------------------------------------------------------------- area of a drawn polygon

  /** Area (m²) of a ring of L.LatLng on the WGS 84 ellipsoid, in a local projection at its middle
   * latitude (radii of curvature there): within 0.01 % for shapes of a few kilometres. */
  function areaM2(ring) {
    var a = 6378137, e2 = 0.00669437999014, d2r = Math.PI / 180, n = ring.length;
    if (n < 3) return 0;
    var lat0 = 0, lng0 = ring[0].lng;
    ring.forEach(function (p) { lat0 += p.lat / n; });
    var s = Math.sin(lat0 * d2r), w = Math.sqrt(1 - e2 * s * s);
    var M = a * (1 - e2) / (w * w * w), N = a / w, kx = N * Math.cos(lat0 * d2r) * d2r, ky = M * d2r, area = 0;
    for (var i = 0; i < n; i++) {
      var p = ring[i], q = ring[(i + 1) % n];
      area += ((p.lng - lng0) * kx) * ((q.lat - lat0) * ky) - ((q.lng - lng0) * kx) * ((p.lat - lat0) * ky);
    }
    return Math.abs(area) / 2;
  }

  // ---------------------------------------------------------------- the page

  function start(map, data) {
    var lab = data.labels, fmt = numberFormat(data.lang), app = {map: map, data: data, overlays: {}, fmt: fmt, areaM2: areaM2, fold: fold};
    var narrow = window.matchMedia(NARROW);
    window.landplan = app;
    map.fitBounds(data.bounds, {animate: false});  // before any layer is drawn (and not animated: a later view would be undone)

    // panes: context under takes under remnants under parcel outlines under footprints; highlight on top
    [['lp-admin', 405], ['lp-context', 410], ['lp-takes', 420], ['lp-remnants', 430], ['lp-parcels', 440],
     ['lp-footprints', 450], ['lp-highlight', 460]].forEach(function (p) { map.createPane(p[0]).style.zIndex = p[1]; });

    // ---------------------------------------------------------- base maps, offline first
    var plain = L.tileLayer(data.plainTile, {attribution: 'landplan', maxZoom: 22, maxNativeZoom: 22});
    var bases = {}, online = [];
    bases[lab.plain] = plain;
    if (data.online) {
      var osm = L.tileLayer('https://tile.openstreetmap.org/{z}/{x}/{y}.png',
        {maxZoom: 19, attribution: '&copy; OpenStreetMap contributors'});
      var sat = L.tileLayer('https://server.arcgisonline.com/ArcGIS/rest/services/World_Imagery/MapServer/tile/{z}/{y}/{x}',
        {maxZoom: 19, attribution: 'Tiles &copy; Esri'});
      bases[lab.osm] = osm; bases[lab.satellite] = sat; online = [osm, sat];
    }
    var notice = document.getElementById('lp-notice');
    function offline() {
      online.forEach(function (l) { if (map.hasLayer(l)) map.removeLayer(l); });
      if (!map.hasLayer(plain)) plain.addTo(map);
      orientation.forEach(function (l) { if (!map.hasLayer(l)) l.addTo(map); });
      notice.textContent = lab.offline;
      notice.hidden = false;
      app.offline = true;
    }
    online.forEach(function (layer) {
      var loaded = false;
      layer.on('tileload', function () { loaded = true; });
      layer.on('tileerror', function () { if (!loaded && map.hasLayer(layer)) offline(); });
      layer.on('add', function () {
        setTimeout(function () { if (!loaded && map.hasLayer(layer)) offline(); }, 10000);
      });
    });

    // ---------------------------------------------------------- layers from packed data
    var origin = data.origin, unit = data.unit, packed = {};
    function packedLayer(key, styles, classOf) {
      var d = data.layers[key];
      if (!d || !d.n) return null;
      var layer = new PackedLayer(decode(d), origin, unit, styles, classOf, {pane: 'lp-' + (d.pane || key)});
      layer.props = d;
      packed[key] = layer;
      return layer;
    }
    var lu = data.landuse, pal = data.palette;
    var ctx = packedLayer('context', [{fillColor: pal.context, fillOpacity: 1, color: pal.contextOutline, weight: 0.6, minPx: 8}]);
    var water = packedLayer('water', [{fillColor: pal.water, fillOpacity: 1, color: pal.water, weight: 0, minPx: 0}]);
    var roads = packedLayer('roads', [{fillColor: pal.road, fillOpacity: 1, color: pal.roadOutline, weight: 0.8, minPx: 8}]);
    var takes = packedLayer('takes', lu.map(function (c) { return {fillColor: c.color, fillOpacity: pal.takeOpacity, color: '#4d4d4d', weight: 0.4, opacity: 0.6, minPx: 8}; }),
      function (f) { return data.layers.takes.lu[f]; });
    var remnants = packedLayer('remnants', [
      {fillColor: pal.remnantOk, fillOpacity: pal.remnantOkOpacity, color: pal.remnantOkLine, weight: 0.8, minPx: 8},
      {fillColor: pal.remnantBad, fillOpacity: pal.remnantBadOpacity, color: pal.remnantBadLine, weight: 1.5, minPx: 0}],
      function (f) { return data.layers.remnants.flag[f] ? 1 : 0; });
    var parcels = packedLayer('parcels', [{fillOpacity: 0, color: pal.parcelLine, weight: 0.8, minPx: 10}]);

    var orientation = [];
    if (water || roads) {
      var ori = L.layerGroup([water, roads].filter(Boolean));
      app.overlays[lab.orientation] = ori;
      orientation.push(ori);
    }
    if (ctx) app.overlays[lab.context] = ctx;
    if (takes) app.overlays[lab.takes] = takes;
    if (remnants) app.overlays[lab.remnants] = remnants;
    if (parcels) app.overlays[lab.parcels] = parcels;

    // small layers as SVG: administrative units with their names, footprints, the hub
    var svg = {}, hoverLines = null;
    function svgRenderer(pane) { return svg[pane] || (svg[pane] = L.svg({pane: pane})); }
    var adminRings = data.admin.map(function (a) {
      var g = decode(a.outlines), out = [];
      for (var j = 0; j < g.n; j++) out.push(featureLatLngs(g, origin, unit, j));
      return out;
    });
    var adminLayers = data.admin.map(function (a, k) {
      var group = L.layerGroup();
      adminRings[k].forEach(function (rings) {
        L.polygon(rings, {pane: 'lp-admin', renderer: svgRenderer('lp-admin'), interactive: false,
                          color: pal.admin, weight: 1.5, fill: false, dashArray: '6 4'}).addTo(group);
      });
      a.labels.forEach(function (ll, j) {
        L.tooltip({permanent: true, direction: 'center', className: 'lp-unit-label', interactive: false}, null)
          .setLatLng(ll).setContent(escHtml(a.units[j])).addTo(group);
      });
      app.overlays[a.title] = group;
      return group;
    });
    var FP = data.layers.footprints, fpGeom = decode(FP), roadsFp = L.featureGroup(), hubFp = L.featureGroup();
    for (var fi = 0; fi < FP.n; fi++) {
      var proj = data.projects[FP.project[fi]];
      var shape = L.polygon(featureLatLngs(fpGeom, origin, unit, fi), {pane: 'lp-footprints', renderer: svgRenderer('lp-footprints'),
                                                                      color: proj.color, weight: 2.5, fill: false});
      // hover text through the page's one tooltip: a tooltip bound to a shape would make it focusable
      // (Chromium gives the Tab key to any SVG shape listening for focus)
      (function (lines) {
        shape.on('mouseover', function () { hoverLines = lines; });
        shape.on('mouseout', function () { hoverLines = null; });
      })([proj.name, lab.footprint_ha + ': ' + fmt(FP.area_ha[fi], 2), lab.rice_ha + ': ' + fmt(FP.rice_ha[fi], 2)]);
      shape.addTo(proj.hub ? hubFp : roadsFp);
    }
    if (roadsFp.getLayers().length) app.overlays[lab.footprints] = roadsFp;
    if (hubFp.getLayers().length) app.overlays[lab.hub] = hubFp;

    // what is shown at first
    var baseFirst = data.online ? bases[lab.osm] : plain;
    baseFirst.addTo(map);
    adminLayers.forEach(function (g, k) { if (k === 0) g.addTo(map); });
    [ctx, takes, remnants, parcels, app.overlays[lab.footprints], app.overlays[lab.hub]].forEach(function (l) { if (l) l.addTo(map); });
    if (!data.online) orientation.forEach(function (l) { l.addTo(map); });
    if (data.online && navigator.onLine === false) offline();

    // ---------------------------------------------------------- panel: summary and legend
    var panel = document.getElementById('lp-panel'), toggle = document.getElementById('lp-panel-toggle');
    function setPanel(open) {
      document.body.classList.toggle('lp-panel-closed', !open);
      toggle.setAttribute('aria-expanded', open ? 'true' : 'false');
    }
    toggle.addEventListener('click', function () { setPanel(document.body.classList.contains('lp-panel-closed')); });
    document.getElementById('lp-panel-close').addEventListener('click', function () { setPanel(false); toggle.focus(); });
    L.DomEvent.disableClickPropagation(panel); L.DomEvent.disableScrollPropagation(panel);

    var legend = document.getElementById('landplan-legend');
    function legendFollows(name, on) {
      legend.querySelectorAll('.landplan-legend-section').forEach(function (s) {
        if (s.dataset.layer === name) s.style.display = on ? '' : 'none';
      });
    }
    Object.keys(app.overlays).forEach(function (name) { legendFollows(name, map.hasLayer(app.overlays[name])); });
    // the layer control shows names escaped (see below): find a layer's own name by the layer
    function overlayName(layer) {
      var found = null;
      Object.keys(app.overlays).forEach(function (k) { if (app.overlays[k] === layer) found = k; });
      return found;
    }
    map.on('overlayadd', function (e) { legendFollows(overlayName(e.layer), true); });
    map.on('overlayremove', function (e) { legendFollows(overlayName(e.layer), false); });
    // orientation layers switched on by the offline fallback update the legend too
    orientation.forEach(function (l) {
      l.on('add', function () { legendFollows(lab.orientation, true); });
      l.on('remove', function () { legendFollows(lab.orientation, false); });
    });

    panel.querySelectorAll('button.lp-zoom').forEach(function (b) {
      b.addEventListener('click', function () {
        var p = data.projects[Number(b.dataset.index)];
        map.fitBounds(p.bounds, {padding: [20, 20]});
      });
    });

    // ---------------------------------------------------------- parcels: facts, popups, hover
    var P = data.layers.parcels || {n: 0}, rows = data.rows, projectNames = data.projects.map(function (p) { return p.name; });
    var rowsOf = [];
    for (var f = 0; f < P.n; f++) rowsOf.push([]);
    rows.parcel.forEach(function (pi, r) { rowsOf[pi].push(r); });
    var piecesOf = [];
    for (f = 0; f < P.n; f++) piecesOf.push([]);
    if (remnants) remnants.props.parcel.forEach(function (pi, k) { piecesOf[pi].push(k); });

    function luText(i) { return lu[i].code + ' – ' + lu[i].name; }
    function unitText(i) {
      return data.admin.map(function (a, k) { var j = P.unit[k][i]; return j >= 0 ? a.units[j] : null; }).filter(Boolean).join('; ');
    }
    function row(table, label, value, cls) {
      table.appendChild(el('tr', {className: cls}, [el('th', {scope: 'row', text: label}), el('td', {text: value})]));
    }
    function pieceText(k) {
      var R = data.layers.remnants, flag = R.flag[k];
      return lab.piece + ' ' + R.piece[k] + ': ' + fmt(R.area[k], 1) + ' m² – ' + (flag ? flag : lab.piece_ok);
    }

    /** The popup's content for parcel i: what it is, what is taken (by project) and what remains, piece by piece. */
    function parcelPopup(i) {
      var t = el('table', {className: 'lp-facts'});
      row(t, lab.landuse, luText(P.lu[i]));
      if (P.owner) row(t, lab.owner, P.owner[i]);
      if (data.admin.length) row(t, lab.unit, unitText(i));
      row(t, lab.parcel_area, fmt(P.area[i], 1));
      row(t, lab.take, fmt(P.take[i], 1));
      row(t, lab.take_pct, fmt(100 * P.fraction[i], 1));
      rowsOf[i].forEach(function (r) {
        row(t, '· ' + projectNames[rows.project[r]], fmt(rows.take_m2[r], 1) + ' m²', 'lp-sub');
      });
      row(t, lab.remnant, fmt(P.rest[i], 1));
      var ps = piecesOf[i];
      if (ps.length) {
        row(t, lab.pieces_n, String(ps.length));
        ps.forEach(function (k) {
          var bad = !!data.layers.remnants.flag[k];
          t.appendChild(el('tr', {className: 'lp-sub lp-piece' + (bad ? ' lp-bad' : '')},
            [el('td', {colspan: '2', text: pieceText(k)})]));
        });
      }
      if (P.flag[i]) row(t, lab.flag, P.flag[i], 'lp-bad');
      if (P.total) costRows(t, i);
      return el('div', {className: 'lp-popup'}, [el('div', {className: 'lp-popup-title', text: lab.parcel + ' ' + P.id[i]}), t]);
    }

    /** The parcel's cost estimate: position, unit price and K, legal area, each line and the total (all as text). */
    function costRows(t, i) {
      t.appendChild(el('tr', {className: 'lp-cost-head'}, [el('th', {colspan: '2', text: lab.estimate + (data.costs && data.costs.illustrative ? ' – ' + lab.illustrative : '')})]));
      if (P.position[i] !== null) {  // a parcel beyond the last distance band has no road measured
        var near = P.road[i] ? ' – ' + P.road[i] + ' (' + fmt(P.roadDistance[i], 0) + ' m)' : ' (> ' + fmt(data.costs.farthest, 0) + ' m)';
        row(t, lab.position, String(P.position[i]) + near, 'lp-cost');
      }
      if (P.unitPrice[i]) row(t, lab.unit_price, fmt(P.unitPrice[i], 0) + ' (K = ' + fmt(P.k[i], 2) + ')', 'lp-cost');
      row(t, lab.legal_take, fmt(P.legal[i], 1), 'lp-cost');
      row(t, lab.compensation, fmt(P.comp[i], 0), 'lp-cost');
      row(t, lab.support, fmt(P.job[i] + P.life[i], 0), 'lp-cost');
      if (P.conv[i]) row(t, lab.conversion, fmt(P.conv[i], 0), 'lp-cost');
      row(t, lab.cost_total, fmt(P.total[i], 0), 'lp-cost lp-cost-total');
      if (P.cand[i]) row(t, lab.candidate, fmt(P.cand[i], 0), 'lp-cost lp-bad');
    }

    var highlight = L.layerGroup().addTo(map), hlRenderer = svgRenderer('lp-highlight');
    function highlightRings(rings) {
      highlight.clearLayers();
      L.polygon(rings, {renderer: hlRenderer, pane: 'lp-highlight', interactive: false, color: '#111111',
                        weight: 3.5, fill: false}).addTo(highlight);
      L.polygon(rings, {renderer: hlRenderer, pane: 'lp-highlight', interactive: false, color: '#ffffff',
                        weight: 1.2, fill: false}).addTo(highlight);
    }

    /**
     * Where a popup may sit without covering a control: between the left and right columns of
     * controls (full height), or below all the top controls (full width); above the bottom ones.
     * Rectangles in map-container pixels.
     */
    function freeRegions() {
      var box = map.getContainer().getBoundingClientRect(), pad = 8, W = box.width, H = box.height;
      var left = 0, right = 0, top = 0, bottom = 0;
      map.getContainer().querySelectorAll('.leaflet-control-container .leaflet-control').forEach(function (c) {
        var r = c.getBoundingClientRect();
        if (!r.width || !r.height) return;
        var corner = c.parentNode.className;
        if (corner.indexOf('leaflet-top') >= 0) {
          top = Math.max(top, r.bottom - box.top);
          if (corner.indexOf('leaflet-left') >= 0) left = Math.max(left, r.right - box.left);
          else right = Math.max(right, box.right - r.left);
        } else bottom = Math.max(bottom, box.bottom - r.top);
      });
      return [{x0: left + pad, x1: W - right - pad, y0: pad, y1: H - bottom - pad},
              {x0: pad, x1: W - pad, y0: top + pad, y1: H - bottom - pad}];
    }

    /** Popup size limits for the roomier free region (the popup scrolls within them). */
    function popupOptions() {
      var regions = freeRegions(), a = regions[0], b = regions[1];
      var r = (a.x1 - a.x0 >= 240) ? a : b, w = r.x1 - r.x0, h = r.y1 - r.y0;
      // the popup adds about 50 px of padding around its content, and its tip below
      return {maxWidth: Math.max(140, Math.min(380, w - 56)), minWidth: Math.max(120, Math.min(260, w - 56)),
              maxHeight: Math.max(100, h - 72), autoPan: false, className: 'lp-popup-box'};
    }

    /** Pan the map so the open popup lies in a free region (the one needing the shortest pan). */
    function placePopup() {
      if (!popup.isOpen()) return;
      var box = map.getContainer().getBoundingClientRect(), pr = popup.getElement().getBoundingClientRect();
      var p = {x0: pr.left - box.left, x1: pr.right - box.left, y0: pr.top - box.top, y1: pr.bottom - box.top}, best = null;
      freeRegions().forEach(function (r) {
        if (p.x1 - p.x0 > r.x1 - r.x0 + 0.5 || p.y1 - p.y0 > r.y1 - r.y0 + 0.5) return;
        var dx = p.x0 < r.x0 ? r.x0 - p.x0 : (p.x1 > r.x1 ? r.x1 - p.x1 : 0);
        var dy = p.y0 < r.y0 ? r.y0 - p.y0 : (p.y1 > r.y1 ? r.y1 - p.y1 : 0);
        if (!best || Math.abs(dx) + Math.abs(dy) < Math.abs(best[0]) + Math.abs(best[1])) best = [dx, dy];
      });
      if (!best) {  // fits nowhere whole: its top left in the region below the controls
        var r = freeRegions()[1];
        best = [r.x0 - p.x0, r.y0 - p.y0];
      }
      if (best[0] || best[1]) map.panBy([-best[0], -best[1]], {animate: false});
      app.popupPlaced = true;
    }

    var popup = L.popup();  // one popup, filled for the parcel opened
    popup.on('remove', function () { highlight.clearLayers(); app.selected = -1; });
    function openParcel(i, latlng) {
      highlightRings(parcels.latlngs(i));
      L.setOptions(popup, popupOptions());
      app.popupPlaced = false;
      popup.setLatLng(latlng || parcels.featureBounds(i).getCenter()).setContent(parcelPopup(i));
      if (map.hasLayer(popup)) popup.update(); else popup.openOn(map);
      placePopup();
      app.selected = i;
    }
    app.openParcel = openParcel;

    /** The parcel under a point, through whichever of its layers is shown. */
    function parcelAt(latlng) {
      if (parcels && map.hasLayer(parcels)) { var i = parcels.hit(latlng); if (i >= 0) return i; }
      if (remnants && map.hasLayer(remnants)) { var k = remnants.hit(latlng); if (k >= 0) return remnants.props.parcel[k]; }
      if (takes && map.hasLayer(takes)) { var j = takes.hit(latlng); if (j >= 0) return takes.props.parcel[j]; }
      return -1;
    }
    map.on('click', function (e) {
      if (app.measuring) return;
      var i = parcelAt(e.latlng);
      if (i >= 0) openParcel(i, e.latlng);
    });

    var tip = L.tooltip({direction: 'top', offset: [0, -10], className: 'lp-tip', opacity: 0.95}), frame = null, lastMove = null;
    function hoverText(latlng) {
      if (hoverLines) return hoverLines;
      var i = parcelAt(latlng);
      if (i >= 0) {
        var lines = [lab.parcel + ' ' + P.id[i], luText(P.lu[i])];
        var k = remnants && map.hasLayer(remnants) ? remnants.hit(latlng) : -1;
        var j = takes && map.hasLayer(takes) ? takes.hit(latlng) : -1;
        if (k >= 0) lines.push(pieceText(k));
        else if (j >= 0) lines.push(lab.take + ': ' + projectNames[data.layers.takes.project[j]] + ', ' + fmt(data.layers.takes.take[j], 1) + ' m²');
        return lines;
      }
      if (ctx && map.hasLayer(ctx)) { var c = ctx.hit(latlng); if (c >= 0) return [lab.context, luText(ctx.props.lu[c])]; }
      var around = [water, roads];
      for (var q = 0; q < around.length; q++) {
        var layer = around[q];
        if (layer && map.hasLayer(layer)) { var w = layer.hit(latlng); if (w >= 0) return [luText(layer.props.lu[w])]; }
      }
      return null;
    }
    map.on('mousemove', function (e) {
      lastMove = e.latlng;
      if (frame) return;
      frame = requestAnimationFrame(function () {
        frame = null;
        var lines = app.measuring ? null : hoverText(lastMove);
        map.getContainer().classList.toggle('lp-pointer', !!lines);
        if (!lines) { map.closeTooltip(tip); return; }
        var node = el('div');
        lines.forEach(function (s, n) { if (n) node.appendChild(el('br')); node.appendChild(n ? document.createTextNode(s) : el('b', {text: s})); });
        tip.setLatLng(lastMove).setContent(node);
        if (!map.hasLayer(tip)) map.openTooltip(tip);
      });
    });
    map.on('mouseout', function () { map.closeTooltip(tip); });

    // ---------------------------------------------------------- controls
    L.control.scale({imperial: false, metric: true, maxWidth: 160, position: 'bottomright'}).addTo(map);
    if (L.Control.FullScreen) {
      map.addControl(new L.Control.FullScreen({position: 'topleft', title: lab.fullscreen, titleCancel: lab.fullscreen_off, forceSeparateButton: true}));
    }
    if (L.control.polylineMeasure) {
      var lines = L.control.polylineMeasure(L.extend({position: 'topleft', unit: 'metres', showBearings: false, clearMeasurementsOnStop: false,
        showClearControl: true, measureControlTitleOn: lab.measure, measureControlTitleOff: lab.measure_off,
        clearControlTitle: lab.measure_clear}, data.measureText));
      // its distances keep its units and decimals, written with the page's separators (1,25 km in Vietnamese)
      var distance = lines._getDistance;
      lines._getDistance = function (d) {
        var out = distance.call(this, d), decimals = (String(out.value).split('.')[1] || '').length;
        out.value = fmt(Number(out.value), decimals);
        return out;
      };
      lines.addTo(map);
      app.distance = lines;
    }
    if (map.pm) addAreaMeasure();
    var search = addSearch();
    // Leaflet writes layer names as HTML: a name from the scenario (an admin layer's title) goes in escaped
    var shownOverlays = {};
    Object.keys(app.overlays).forEach(function (k) { shownOverlays[escHtml(k)] = app.overlays[k]; });
    L.control.layers(bases, shownOverlays, {collapsed: narrow.matches, position: 'topright'}).addTo(map);
    addTools();

    /** Area measuring: draw a polygon (leaflet-geoman), read its area in m² and ha. */
    function addAreaMeasure() {
      L.PM.setOptIn(true);  // geoman leaves the map's own layers alone
      map.pm.setLang('lp', data.geomanText, 'en');
      var drawn = L.featureGroup().addTo(map);
      var Ctl = L.Control.extend({
        options: {position: 'topleft'},
        onAdd: function () {
          var box = el('div', {className: 'leaflet-bar leaflet-control lp-area-control'});
          var start = el('a', {href: '#', role: 'button', title: lab.area, 'aria-label': lab.area, className: 'lp-area-start'}, [el('span', {'aria-hidden': 'true', text: '⬠'})]);
          var clear = el('a', {href: '#', role: 'button', title: lab.area_clear, 'aria-label': lab.area_clear, className: 'lp-area-clear'}, [el('span', {'aria-hidden': 'true', text: '✕'})]);
          clear.style.display = 'none';
          box.appendChild(start); box.appendChild(clear);
          L.DomEvent.disableClickPropagation(box);
          L.DomEvent.on(start, 'click', function (e) {
            L.DomEvent.preventDefault(e);
            if (map.pm.globalDrawModeEnabled()) { map.pm.disableDraw(); return; }
            app.measuring = true; map.closePopup(); map.closeTooltip(tip);
            map.pm.enableDraw('Polygon', {snappable: false, continueDrawing: false, finishOn: 'dblclick',
              pathOptions: {color: '#0b57d0', weight: 2, fillOpacity: 0.15}, templineStyle: {color: '#0b57d0'}, hintlineStyle: {color: '#0b57d0', dashArray: '4 4'}});
            start.classList.add('lp-active');
          });
          L.DomEvent.on(clear, 'click', function (e) { L.DomEvent.preventDefault(e); drawn.clearLayers(); clear.style.display = 'none'; });
          map.on('pm:drawend', function () { app.measuring = false; start.classList.remove('lp-active'); });
          map.on('pm:create', function (e) {
            var shape = e.layer, ring = shape.getLatLngs()[0], m2 = areaM2(ring);
            shape.options.interactive = false;
            drawn.addLayer(shape);
            shape.bindTooltip(fmt(m2, 1) + ' m² · ' + fmt(m2 / 10000, 4) + ' ha', {permanent: true, direction: 'center', className: 'lp-measure-label'}).openTooltip();
            app.lastArea = m2;
            clear.style.display = '';
          });
          return box;
        }
      });
      new Ctl().addTo(map);
    }

    /** Search by parcel id, by owner (not in a public map) and by administrative unit. */
    function addSearch() {
      if (!L.Control.Search) return null;
      var folded = null;
      function index() {
        folded = {id: P.id ? P.id.map(fold) : [], owner: P.owner ? P.owner.map(fold) : null,
          units: data.admin.map(function (a) { return a.units.map(fold); })};
      }
      function parcelLoc(i) { var ll = parcels.featureBounds(i).getCenter(); ll.lp = {kind: 'parcel', i: i}; return ll; }
      function source(text, callback) {
        if (!folded) index();
        var q = fold(text).trim(), out = {}, n = 0, limit = 40, i;
        if (!q) { callback(out); return; }
        for (i = 0; i < P.n && n < limit; i++) if (folded.id[i].indexOf(q) >= 0) { out[P.id[i]] = parcelLoc(i); n++; }
        data.admin.forEach(function (a, k) {
          folded.units[k].forEach(function (u, j) {
            if (n >= limit || u.indexOf(q) < 0) return;
            var key = a.units[j] + ' (' + a.title + ')', ll = L.latLng(a.labels[j]);
            ll.lp = {kind: 'unit', k: k, j: j}; out[key] = ll; n++;
          });
        });
        if (folded.owner) for (i = 0; i < P.n && n < limit; i++) {
          if (folded.owner[i].indexOf(q) >= 0) { out[P.owner[i] + ' · ' + P.id[i]] = parcelLoc(i); n++; }
        }
        callback(out);
      }
      var ctl = new L.Control.Search({
        sourceData: source, formatData: function (d) { return d; }, filterData: function (t, recs) { return recs; },
        initial: false, marker: false, collapsed: narrow.matches, position: 'topleft', tooltipLimit: 40,
        textPlaceholder: P.owner ? lab.search : lab.search_public, textErr: lab.not_found, textCancel: lab.cancel,
        buildTip: function (text) { return el('li', {text: text}); },
        moveToLocation: function (latlng) {
          var hit = latlng.lp;
          if (hit && hit.kind === 'parcel') map.fitBounds(parcels.featureBounds(hit.i), {maxZoom: 19, animate: false});
          else if (hit && hit.kind === 'unit') map.fitBounds(adminUnitBounds(hit.k, hit.j), {animate: false});
          else map.setView(latlng, 17);
        }
      });
      ctl.on('search:locationfound', function (e) {
        var hit = e.latlng && e.latlng.lp;
        if (hit && hit.kind === 'parcel') openParcel(hit.i);
        if (hit && hit.kind === 'unit') highlightRings(adminUnitRings(hit.k, hit.j));
      });
      map.addControl(ctl);
      return ctl;
    }
    function adminUnitBounds(k, j) { return L.latLngBounds([].concat.apply([], adminRings[k][j])); }
    function adminUnitRings(k, j) { return adminRings[k][j]; }

    /** Print, and CSV downloads of the summary and of the parcels in view. */
    function addTools() {
      var Ctl = L.Control.extend({
        options: {position: 'topright'},
        onAdd: function () {
          var box = el('div', {className: 'leaflet-bar leaflet-control lp-tools'});
          [['print', '⎙', function () { window.print(); }],
           ['csv_summary', '∑', downloadSummary],
           ['csv_view', '⇩', downloadView]].forEach(function (b) {
            var a = el('a', {href: '#', role: 'button', title: lab[b[0]], 'aria-label': lab[b[0]], className: 'lp-tool-' + b[0]}, [el('span', {'aria-hidden': 'true', text: b[1]})]);
            L.DomEvent.on(a, 'click', function (e) { L.DomEvent.preventDefault(e); b[2](); });
            box.appendChild(a);
          });
          L.DomEvent.disableClickPropagation(box);
          return box;
        }
      });
      new Ctl().addTo(map);
    }

    function csvCell(v, isFloat) {
      if (v === null || v === undefined) return '';
      if (typeof v === 'boolean') return v ? 'True' : 'False';
      var s = String(v);
      if (isFloat && typeof v === 'number' && Number.isInteger(v) && Math.abs(v) < 1e16) s += '.0';  // as the CSV files write floats
      return /[",\r\n]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
    }
    function download(name, columns, records, floats) {
      var isFloat = columns.map(function (c) { return (floats || []).indexOf(c) >= 0; });
      var lines = [columns.map(function (c) { return csvCell(c); }).join(',')];
      records.forEach(function (r) { lines.push(r.map(function (v, j) { return csvCell(v, isFloat[j]); }).join(',')); });
      var blob = new Blob(['\ufeff' + lines.join('\n') + '\n'], {type: 'text/csv;charset=utf-8'});
      var a = el('a', {href: URL.createObjectURL(blob), download: name});
      document.body.appendChild(a); a.click();
      setTimeout(function () { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
    }
    function downloadSummary() {
      var s = data.summaryTable;
      download(data.files.summary, s.columns, s.rows);
    }
    /** parcels.csv's rows (its columns, personal ones left out of a public map) for the parcels in view. */
    function viewRecords() {
      var inView = {};
      (parcels ? parcels.within(map.getBounds()) : []).forEach(function (i) { inView[i] = true; });
      var out = [];
      rows.parcel.forEach(function (pi, r) {
        if (!inView[pi]) return;
        out.push(rows.columns.map(function (c) {
          if (c === 'project') return data.projects[rows.project[r]].id;
          if (c in rows.parcelColumns) return P[rows.parcelColumns[c]][pi];
          if (c === 'landuse') return lu[P.lu[pi]].code;
          return rows[c][r];
        }));
      });
      return out;
    }
    function downloadView() { download(data.files.view, rows.columns, viewRecords(), rows.floats); }
    app.viewRecords = viewRecords;

    // ---------------------------------------------------------- layout: resize, print, narrow screens
    if (window.ResizeObserver) new ResizeObserver(function () { map.invalidateSize({pan: false}); }).observe(map.getContainer());
    // print: every project's figures (closed details opened, and closed again after), the map redrawn at the page's size
    var reopen = [];
    window.addEventListener('beforeprint', function () {
      reopen = Array.prototype.filter.call(panel.querySelectorAll('details.landplan-project'), function (d) { return !d.open; });
      reopen.forEach(function (d) { d.open = true; });
      map.invalidateSize({pan: false});
    });
    window.addEventListener('afterprint', function () {
      reopen.forEach(function (d) { d.open = false; });
      map.invalidateSize({pan: false});
    });
    setPanel(true);

    app.count = function (name) {
      var l = app.overlays[name];
      if (!l) return -1;
      if (l.count) return l.count();
      return l.getLayers().length;
    };
    app.packed = packed;
    app.search = search;
    app.ready = true;
    return app;
  }

  window.LandplanMap = {start: start, decode: decode, numberFormat: numberFormat, fold: fold, areaM2: areaM2};
})();
