/* datavask report tables: search, sort, filter and page the complete lists embedded in
   #datavask-data. Every value is put on the page with textContent or as an attribute value set
   through the DOM, never as HTML, so nothing a customer record holds can run. No network. */
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("datavask-data").textContent);
  var T = data.text;
  var F = {};
  data.fields.forEach(function (name, i) { F[name] = i; });
  var collator = new Intl.Collator(data.lang === "da" ? "da" : "en", { numeric: true, sensitivity: "base" });
  var numberFormat = new Intl.NumberFormat(data.lang === "da" ? "da-DK" : "en-GB");

  // A catalogue text with its counts filled in: {shown} as a number, {total|kunde|kunder} the
  // singular where total is 1 (Text.__call__ does the same on the server side).
  function say(template, counts) {
    return template
      .replace(/\{(\w+)\|([^{}|]*)\|([^{}|]*)\}/g, function (_, name, one, many) { return counts[name] === 1 ? one : many; })
      .replace(/\{(\w+)\}/g, function (token, name) { return name in counts ? numberFormat.format(counts[name]) : token; });
  }

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function filled(value) {
    return value !== null && value !== undefined && value !== "";
  }

  // How the re-import treats the CRM value of a field that held a CPR number: "emptied" (a
  // phone cell that held only the number goes back empty) or "stripped" (what was typed beside
  // it goes back). (No number as an example here: the page must hold none.)
  function cprRemoved(row, field) {
    if ((row[F.cpr_emptied] || []).indexOf(field) >= 0) return "emptied";
    if ((row[F.cpr_stripped] || []).indexOf(field) >= 0) return "stripped";
    return null;
  }

  // "in CRM: <before>" under a cleaned value that differs from it; without one, "(not usable)"
  // (the CRM keeps it), or what the re-import does to a CPR number's cell.
  function beforeLine(cell, after, before, removed) {
    if (!filled(before) || before === after) return;
    var line = el("div", "before");
    line.appendChild(el("span", "tag", T.in_crm + ": "));
    line.appendChild(el("span", "was", before));
    if (!filled(after)) {
      var why = removed ? T["cpr_" + removed] : T.not_usable;
      line.appendChild(el("span", "unusable", " (" + why + ")"));
    }
    cell.appendChild(line);
  }

  function beforeAfter(cell, after, before, note, removed) {
    if (filled(after)) cell.appendChild(el("div", "after", after));
    beforeLine(cell, after, before, removed);
    if (note) cell.appendChild(note);
  }

  var render = {
    customer: function (cell, row) {
      beforeAfter(cell, row[F.name], row[F.name_before], null, cprRemoved(row, "name"));
      // a MINOR's date of birth, the one its action may say is wrong: 12.05.2012 in Danish
      var born = row[F.date_of_birth];
      if (filled(born)) {
        var shown = data.lang === "da" ? born.split("-").reverse().join(".") : born;
        cell.appendChild(el("div", "born", T.born + " " + shown));
      }
      cell.appendChild(el("div", "ids", row[F.record_ids]));
    },
    address: function (cell, row) {
      var proposal = null;
      if (row[F.registry_new_address]) {
        proposal = el("div", "registry-new");
        proposal.appendChild(el("span", "tag", "CVR: "));
        proposal.appendChild(el("span", null, row[F.registry_new_address]));
      }
      beforeAfter(cell, row[F.address], row[F.address_before], proposal, cprRemoved(row, "address"));
    },
    contact: function (cell, row) {
      beforeAfter(cell, row[F.phone], row[F.phone_before], null, cprRemoved(row, "phone"));
      beforeAfter(cell, row[F.email], row[F.email_before], null, cprRemoved(row, "email"));
    },
    cvr: function (cell, row) {
      var cvr = row[F.cvr];
      if (filled(cvr) && /^[0-9]{8}$/.test(cvr)) {
        var link = el("a", null, cvr);
        link.href = "https://datacvr.virk.dk/enhed/virksomhed/" + cvr;
        link.title = T.cvr_link_title;
        link.rel = "noopener noreferrer";
        link.target = "_blank";
        cell.appendChild(link);
      } else if (filled(cvr)) {
        cell.appendChild(el("div", "after", cvr));
      }
      // the number as the CRM has it: an INVALID_CVR's is what is to be fixed
      beforeLine(cell, cvr, row[F.cvr_before], cprRemoved(row, "cvr"));
      // a public customer's invoices go to its EAN: shown, and an invalid one as typed
      var ean = row[F.ean];
      var typed = row[F.ean_before];
      if (filled(ean)) cell.appendChild(el("div", "after", "EAN " + ean));
      beforeLine(cell, ean, filled(typed) ? "EAN " + typed : typed, cprRemoved(row, "ean"));
    },
    registry: function (cell, row) {
      var cls = row[F.registry_class];
      if (row[F.registry_name]) cell.appendChild(el("div", null, row[F.registry_name]));
      if (row[F.registry_new_name]) {
        var renamed = el("div", "registry-new");
        renamed.appendChild(el("span", "tag", T.event_renamed + ": "));
        renamed.appendChild(el("span", null, row[F.registry_new_name]));
        cell.appendChild(renamed);
      }
      if (cls) {
        var status = el("div");
        status.appendChild(el("span", "pill class-" + cls, T["class_" + cls]));
        if (row[F.registry_status]) status.appendChild(el("span", "raw", " " + row[F.registry_status]));
        cell.appendChild(status);
      }
    },
    reasons: function (cell, row, table) {
      codesOf(row, table).forEach(function (code) {
        var pill = el("span", "pill code " + (data.blocks[code] || "info"), code);
        pill.title = T.flags[code] || T["event_" + code] || "";
        cell.appendChild(pill);
        cell.appendChild(document.createTextNode(" "));
      });
      if (row[F.flagged] && table.group !== "duplicates") cell.appendChild(el("div", "ids", row[F.flagged]));
    },
    todo: function (cell, row, table) {
      var seen = {};
      codesOf(row, table).forEach(function (code) {
        var action = T.actions[code];
        if (action && !seen[action]) { seen[action] = true; cell.appendChild(el("div", null, action)); }
        // which of the CRM's fields held the number, by the input's column names
        if (code === "CPR_IN_DATA" && filled(row[F.cpr_where])) cell.appendChild(el("div", "ids", row[F.cpr_where]));
      });
    },
    events: function (cell, row) {
      (row[F.events] || []).forEach(function (event) {
        cell.appendChild(el("span", "pill event", T["event_" + event]));
        cell.appendChild(document.createTextNode(" "));
      });
    },
    merge: function (cell, row) {
      var keep = el("div", "after");
      keep.appendChild(el("span", "tag", T.col_survivor + ": "));
      keep.appendChild(el("span", null, row[F.survivor_id]));
      cell.appendChild(keep);
      if (row[F.merged_ids]) {
        var merged = el("div");
        merged.appendChild(el("span", "tag", T.col_merged + ": "));
        merged.appendChild(el("span", null, row[F.merged_ids]));
        cell.appendChild(merged);
      }
      if (row[F.merge_plan]) cell.appendChild(el("div", "muted", row[F.merge_plan]));
      if (row[F.merge_score] !== null && row[F.merge_score] !== undefined) {
        cell.appendChild(el("div", "muted", T.col_score + ": " + numberFormat.format(Math.round(row[F.merge_score] * 1000) / 10) + " %"));
      }
    },
    text: function (cell, row, table, column) {
      var value = row[column.index];
      if (value !== null && value !== undefined) cell.textContent = Array.isArray(value) ? value.join(", ") : String(value);
    },
    percent: function (cell, row, table, column) {
      var value = row[column.index];
      if (value !== null && value !== undefined) cell.textContent = numberFormat.format(Math.round(value * 1000) / 10) + " %";
    }
  };

  function codesOf(row, table) {
    if (table.group === "registry") return row[F.events] || [];
    return (row[F.flags] || []).filter(function (code) { return table.codes.indexOf(code) >= 0; });
  }

  var sortKey = {
    customer: function (row) { return row[F.name] || ""; },
    address: function (row) { return row[F.address] || row[F.address_before] || ""; },
    contact: function (row) { return row[F.phone] || row[F.email] || ""; },
    cvr: function (row) { return row[F.cvr] || row[F.cvr_before] || ""; },
    registry: function (row) { return (row[F.registry_class] || "") + " " + (row[F.registry_status] || ""); },
    reasons: function (row, table) { return codesOf(row, table).join(" "); },
    todo: function (row, table) { return codesOf(row, table).join(" "); },
    events: function (row) { return (row[F.events] || []).join(" "); },
    merge: function (row) { return row[F.survivor_id] || ""; },
    text: function (row, table, column) { var v = row[column.index]; return v === null || v === undefined ? "" : v; },
    percent: function (row, table, column) { var v = row[column.index]; return v === null || v === undefined ? -1 : v; }
  };

  function haystack(row) {
    if (row.__search === undefined) {
      var parts = [];
      row.forEach(function (value) {
        if (value === null || value === undefined) return;
        parts.push(Array.isArray(value) ? value.join(" ") : String(value));
      });
      Object.defineProperty(row, "__search", { value: parts.join(" \u0001 ").toLowerCase(), enumerable: false });
    }
    return row.__search;
  }

  function Table(root, spec) {
    this.root = root;
    this.spec = spec;
    this.group = spec.group;
    this.codes = spec.codes || [];
    this.rows = spec.index ? spec.index.map(function (i) { return data.customers[i]; }) : spec.rows;
    this.view = this.rows.slice();
    this.page = 0;
    this.pageSize = 20;
    this.sortColumn = -1;
    this.sortDescending = false;
    this.build();
    this.apply();
  }

  Table.prototype.build = function () {
    var self = this;
    var controls = el("div", "controls");
    var label = el("label");
    label.appendChild(el("span", null, T.search + " "));
    this.search = el("input");
    this.search.type = "search";
    this.search.placeholder = T.search_hint;
    this.search.className = "search";
    this.search.addEventListener("input", function () { self.page = 0; self.apply(); });
    label.appendChild(this.search);
    controls.appendChild(label);
    if (this.codes.length > 1) {
      this.filter = el("select", "filter");
      this.filter.appendChild(new Option(T.filter_all, ""));
      this.codes.forEach(function (code) {
        var text = T["event_" + code] || code;
        self.filter.appendChild(new Option(text, code));
      });
      this.filter.addEventListener("change", function () { self.page = 0; self.apply(); });
      controls.appendChild(this.filter);
    }
    this.sizes = el("select", "page-size");
    [20, 100, 500, 0].forEach(function (n) {
      self.sizes.appendChild(new Option(n ? String(n) : "∞", String(n)));
    });
    this.sizes.addEventListener("change", function () { self.pageSize = Number(self.sizes.value); self.page = 0; self.draw(); });
    controls.appendChild(this.sizes);
    this.status = el("span", "status");
    controls.appendChild(this.status);
    this.root.appendChild(controls);

    var table = el("table", "list");
    var head = el("thead");
    var tr = el("tr");
    this.spec.columns.forEach(function (column, i) {
      var th = el("th", null, column.label);
      th.dataset.column = String(i);
      th.tabIndex = 0;
      th.addEventListener("click", function () { self.sortBy(i); });
      th.addEventListener("keydown", function (e) { if (e.key === "Enter") self.sortBy(i); });
      tr.appendChild(th);
    });
    head.appendChild(tr);
    table.appendChild(head);
    this.body = el("tbody");
    table.appendChild(this.body);
    this.headRow = tr;
    var wrap = el("div", "scroll");
    wrap.appendChild(table);
    this.root.appendChild(wrap);

    var pager = el("div", "pager");
    this.prev = el("button", null, "‹ " + T.previous);
    this.prev.type = "button";
    this.prev.addEventListener("click", function () { self.page -= 1; self.draw(); });
    this.next = el("button", null, T.next + " ›");
    this.next.type = "button";
    this.next.addEventListener("click", function () { self.page += 1; self.draw(); });
    this.pageText = el("span", "page-text");
    pager.appendChild(this.prev);
    pager.appendChild(this.pageText);
    pager.appendChild(this.next);
    this.root.appendChild(pager);
  };

  Table.prototype.apply = function () {
    var self = this;
    var needle = this.search.value.trim().toLowerCase();
    var code = this.filter ? this.filter.value : "";
    this.view = this.rows.filter(function (row) {
      if (code && codesOf(row, self).indexOf(code) < 0) return false;
      return !needle || haystack(row).indexOf(needle) >= 0;
    });
    this.order();
    this.draw();
  };

  Table.prototype.sortBy = function (i) {
    this.sortDescending = this.sortColumn === i ? !this.sortDescending : false;
    this.sortColumn = i;
    var self = this;
    Array.prototype.forEach.call(this.headRow.children, function (th, j) {
      th.setAttribute("aria-sort", j === i ? (self.sortDescending ? "descending" : "ascending") : "none");
    });
    this.page = 0;
    this.order();
    this.draw();
  };

  Table.prototype.order = function () {
    if (this.sortColumn < 0) return;
    var self = this;
    var column = this.spec.columns[this.sortColumn];
    var key = sortKey[column.type];
    var sign = this.sortDescending ? -1 : 1;
    var keyed = this.view.map(function (row, i) { return [key(row, self, column), i, row]; });
    keyed.sort(function (a, b) {
      var c = typeof a[0] === "number" ? a[0] - b[0] : collator.compare(a[0], b[0]);
      return c !== 0 ? sign * c : a[1] - b[1];
    });
    this.view = keyed.map(function (k) { return k[2]; });
  };

  Table.prototype.draw = function () {
    var self = this;
    var size = this.pageSize || this.view.length || 1;
    var pages = Math.max(1, Math.ceil(this.view.length / size));
    this.page = Math.min(Math.max(this.page, 0), pages - 1);
    var start = this.page * size;
    var slice = this.view.slice(start, start + size);
    var body = el("tbody");
    slice.forEach(function (row) {
      var tr = el("tr");
      if (self.spec.index) tr.dataset.cluster = row[F.cluster_id];
      self.spec.columns.forEach(function (column) {
        var td = el("td", "c-" + column.type);
        render[column.type](td, row, self, column);
        tr.appendChild(td);
      });
      body.appendChild(tr);
    });
    this.body.parentNode.replaceChild(body, this.body);
    this.body = body;
    // a table counts what it lists: customers, the review's pairs, the monitor's changes
    this.status.textContent = say(T[this.spec.counted || "shown"], { shown: this.view.length, total: this.rows.length });
    this.pageText.textContent = T.page + " " + numberFormat.format(this.page + 1) + " " + T.of + " " + numberFormat.format(pages);
    this.prev.disabled = this.page === 0;
    this.next.disabled = this.page >= pages - 1;
  };

  var tables = {};
  Object.keys(data.tables).forEach(function (id) {
    var root = document.querySelector('[data-table="' + id + '"]');
    if (root) tables[id] = new Table(root, data.tables[id]);
  });
  window.datavaskTables = tables;
  window.datavaskReadyMs = performance.now();
  document.documentElement.dataset.ready = "true";
})();
