/* geo_service map pages: a catalog layer drawn from the API's vector tiles
 * (Leaflet.VectorGrid), for layers too big to load whole. Same styles, classes and popups
 * as layers.js; what the panels need of a layer (eachLayer, setStyle, resetStyle,
 * gsLoaded, gsFeatureCount) works on the features of the tiles loaded so far. Below the
 * zoom level the page gives it (def.tilesMinZoom: where no tile holds too many features
 * to draw quickly) the layer loads nothing and says so: gsZoomIn, and the legend asks the
 * user to zoom in. */
(function (global) {
  "use strict";
  var GS = global.GeoService;

  /* Leaflet 1.8 dropped L.DomEvent.fakeStop, which VectorGrid 1.3 calls on a click;
   * this is what it did (the map then ignores the click the feature took). */
  if (!L.DomEvent.fakeStop) {
    L.DomEvent.fakeStop = function (event) {
      event._stopped = true;
    };
  }

  /* Tiled layers draw above the other lines and areas (overlayPane, 400), below markers
   * (600): a compound over the service circle it lies in takes the click. */
  var TILES_PANE = "gsTiles";

  GS.tiledLayer = function (def) {
    var pathStyle = GS.pathStyle(def);
    var points = def.geometry.indexOf("Point") >= 0;

    function styleOf(properties) {
      var style = pathStyle({ properties: properties });
      if (points) {
        style.radius = def.style.radius;
        style.fill = true;
        style.fillOpacity = 0.9;
        style.color = "#ffffff";
      }
      return style;
    }

    var styles = {};
    styles[def.id] = styleOf;
    var minZoom = def.tilesMinZoom || 0;
    var layer = L.vectorGrid.protobuf(def.tiles, {
      minZoom: minZoom,
      pane: TILES_PANE,
      vectorTileLayerStyles: styles,
      interactive: def.interactive,
      rendererFactory: L.canvas.tile,
      getFeatureId: function (feature) {
        return feature.properties.id;
      },
    });
    /* Zoomed out below minZoom (Leaflet rounds the zoom to a tile level likewise), the
     * layer holds no tiles: it counts as loaded, with nothing drawn, until zoomed in. */
    function checkZoom() {
      var map = layer._map;
      if (!map) {
        return;
      }
      layer.gsZoomIn = Math.round(map.getZoom()) < minZoom;
      if (layer.gsZoomIn) {
        layer.gsFeatureCount = 0;
        layer.gsLoaded = true;
        layer.fire("gs:loaded", { count: 0 });
      }
    }
    var addTo = layer.onAdd;
    var removeFrom = layer.onRemove;
    /* Stacked in the map definition's order (a compound over the service circle it lies
     * in), whatever the layer control's automatic z-indexes say. */
    function stackOrder() {
      return GS.layers.indexOf(layer) + 1;
    }
    layer.setZIndex = function () {
      return this;
    };
    layer.onAdd = function (map) {
      if (!map.getPane(TILES_PANE)) {
        map.createPane(TILES_PANE).style.zIndex = 410;
      }
      layer.options.zIndex = stackOrder();
      addTo.call(this, map);
      map.on("zoomend", checkZoom);
      checkZoom();
    };
    layer.onRemove = function (map) {
      map.off("zoomend", checkZoom);
      return removeFrom.call(this, map);
    };
    layer.gsZoomIn = false;
    layer.gsDefinition = def;
    layer.gsFeatureCount = 0;
    layer.options.style = function (feature) {
      return styleOf(feature.properties);
    };
    GS.layers.push(layer);

    /* Each feature of the tiles loaded, once: {feature, setStyle}. */
    layer.eachLayer = function (visit) {
      var seen = {};
      Object.keys(layer._vectorTiles || {}).forEach(function (key) {
        var features = layer._vectorTiles[key]._features || {};
        Object.keys(features).forEach(function (id) {
          if (seen[id]) {
            return;
          }
          seen[id] = true;
          var properties = features[id].feature.properties;
          visit({
            feature: { properties: properties },
            setStyle: function (style) {
              layer.setFeatureStyle(id, L.extend(styleOf(properties), style));
            },
          });
        });
      });
    };
    layer.resetStyle = function (sub) {
      layer.resetFeatureStyle(String(sub.feature.properties.id));
    };

    /* Every tiled layer's tiles hear a click and each finds its own feature there: each
     * claims the click on the DOM event, and once all have, the topmost layer's feature
     * (the latest in the map definition) opens its popup. */
    if (def.interactive && def.popup.length) {
      layer.on("click", function (event) {
        var dom = event.originalEvent;
        if (!event.layer || !layer._map || !dom) {
          return;
        }
        var map = layer._map;
        var claims = dom.gsClaims || (dom.gsClaims = []);
        claims.push({ z: stackOrder(), latlng: event.latlng, html: GS.popupHtml(
          def, event.layer.properties) });
        if (claims.length === 1) {
          setTimeout(function () {
            var top = claims.reduce(function (a, b) {
              return b.z > a.z ? b : a;
            });
            L.popup().setLatLng(top.latlng).setContent(top.html).openOn(map);
          }, 0);
        }
      });
    }
    /* New tiles on their way (a zoom or a pan): not loaded until they are, so that a
     * panel or a test waiting for gsLoaded waits for the features now in view. */
    layer.on("loading", function () {
      layer.gsLoaded = false;
    });
    layer.on("load", function () {
      var count = 0;
      layer.eachLayer(function () {
        count += 1;
      });
      layer.gsFeatureCount = count;
      layer.gsLoaded = true;
      layer.fire("gs:loaded", { count: count });
    });
    layer.on("tileerror", function () {
      layer.gsError = "a tile did not load";
      GS.setStatus("图块加载失败 / Could not load some tiles of " + def.title.en);
    });
    return layer;
  };
})(window);
