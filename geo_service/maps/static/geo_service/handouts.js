/* The planner panel's handouts (a part of workspace.js): print the map (the criterion put
 * on the printed page) and the coverage report — PDF, Excel, HTML — of the district, of
 * the community selected or the sub-district filtered, with the scenario opened. */
(function (global) {
  "use strict";
  var GS = global.GeoService;
  var escapeHtml = GS.escapeHtml;

  GS.workspaceParts.push(function (ws) {
    var api = ws.api, state = ws.state;
    var nameOf = GS.workspaceHelpers.nameOf;

    /* The criterion on the printed map, under the title. */
    function printCriterion() {
      var info = document.querySelector(".gs-info");
      var c = state.summary.criterion;
      if (info && !info.querySelector(".gs-print-criterion")) {
        var line = document.createElement("p");
        line.className = "gs-print-only gs-print-criterion";
        line.textContent = "口径：" + c.rule_zh + " / Criterion: " + c.rule_en;
        info.insertBefore(line, info.querySelector(".gs-printed"));
      }
    }

    /* Handouts: print the map; the report (PDF, Excel) of the district, of the community
     * selected or the sub-district filtered, with the scenario opened. */
    function handoutSection() {
      var scope = state.selected ? { id: state.selected, kind: "社区 community" }
        : state.area ? { id: state.area, kind: "片区 area" } : null;
      var query = [];
      if (scope) {
        query.push("area=" + encodeURIComponent(scope.id));
      }
      if (state.scenario) {
        query.push("scenario=" + encodeURIComponent(state.scenario));
      }
      var suffix = query.length ? "?" + query.join("&") : "";
      var what = scope ? scope.kind + " " + (state.areaNames[scope.id] || communityName(scope.id))
        : "全区 district";
      return "<h2>报告 · Handouts</h2><p class=\"gs-report-links\">" +
        '<button type="button" data-print="1">打印地图 Print map</button> ' +
        '<a data-report="pdf" href="' + api + "reports/coverage.pdf" + suffix + '" download>' +
        "报告 PDF</a>" +
        '<a data-report="xlsx" href="' + api + "reports/coverage.xlsx" + suffix + '" download>' +
        "表格 Excel</a>" +
        '<a data-report="html" href="' + api + "reports/coverage.html" + suffix +
        '" target="_blank" rel="noopener">网页 HTML</a><br><small>' + escapeHtml(what) +
        (state.scenario ? " · 方案 scenario " + escapeHtml(state.scenario) : "") + "</small></p>";
    }

    function communityName(id) {
      var found = state.communities.filter(function (c) {
        return String(c.id) === String(id);
      })[0];
      return found ? nameOf(found) : String(id);
    }

    return {
      ready: printCriterion,
      html: handoutSection,
      click: function (target) {
        if (target.dataset.print) {
          window.print();
        }
      },
    };
  });
})(window);
