/**
 * Editor helpers shared by the meross-config and meross-onboard dialogs. Node-RED (1.3+) serves a
 * module's top-level resources/ directory at resources/<module>/, and each dialog's html loads this
 * file before its own script. Both htmls belong to one module, so the editor runs it twice: the
 * second run keeps the first namespace.
 */
(function (global, $, RED) {
  "use strict";
  if (global.MerossEditor) return;

  // The pick lists' look, once for every dialog (a relative URL, resolved as the editor resolves this script's).
  $("<link rel='stylesheet'>")
    .attr("href", (RED.settings.apiRootUrl || "") + "resources/node-red-contrib-meross-local/meross-editor.css")
    .appendTo("head");

  /** A config-node select holds "_ADD_" while its "Add new…" entry is chosen: that is no node yet. */
  function isPicked(id) {
    return !!id && id !== "_ADD_";
  }

  /**
   * Node-RED fires "change" on a config-node select while it fills it in, so a change only counts as
   * the user's pick when the value differs from the one before (starting from the stored one).
   * `handler(value, userPicked)` runs on every change.
   */
  function onConfigChange($select, stored, handler) {
    var last = stored || "";
    $select.on("change", function () {
      var value = $select.val() || "";
      var userPicked = value !== last;
      last = value;
      handler(value, userPicked);
    });
  }

  /** The sentence of a failed admin request: the package's own error ({error: {code, message}}) or the HTTP status. */
  function errorText(xhr, withCode) {
    var e = xhr.responseJSON && xhr.responseJSON.error;
    if (!e) return xhr.statusText || "error";
    return withCode ? e.code + ": " + e.message : e.message;
  }

  /** POST a JSON body to one of the package's admin endpoints (relative to the editor, as Node-RED's own calls). */
  function postJSON(url, body, timeout) {
    var options = { url: url, type: "POST", contentType: "application/json", data: JSON.stringify(body) };
    if (timeout) options.timeout = timeout;
    return $.ajax(options);
  }

  /** The devices a deployed meross-broker has seen: [{uuid, model, ip, port}]. */
  function brokerDevices(brokerId) {
    return $.getJSON("meross-broker/" + encodeURIComponent(brokerId) + "/devices");
  }

  /**
   * Fills `$list` with one button per item under a prompt line, or with `options.none` when there is
   * none. `options.render($button, item)` fills a button; a click marks it selected and calls
   * `options.onPick(item)`.
   */
  function pickList($list, items, options) {
    $list.empty();
    if (!items || items.length === 0) {
      $list.text(options.none);
      return;
    }
    $list.append($("<div>").text(options.prompt));
    items.forEach(function (item) {
      var $button = $("<a href='#' class='red-ui-button meross-editor-pick'>").addClass(options.className);
      options.render($button, item);
      $button
        .on("click", function (e) {
          e.preventDefault();
          options.onPick(item);
          $list.find("a").removeClass("selected");
          $(this).addClass("selected");
        })
        .appendTo($list);
    });
  }

  /**
   * Devices number their outlets from 1 (labels, the Outlet field); the protocol's channel counts
   * from 0. A blank channel is a blank outlet and back; anything but a whole outlet ≥ 1 is blank.
   */
  function outletOf(channel) {
    return channel === "" || channel === undefined || channel === null ? "" : String(Number(channel) + 1);
  }

  function channelOf(outlet) {
    var v = String(outlet || "").trim();
    return /^\d+$/.test(v) && Number(v) >= 1 ? String(Number(v) - 1) : "";
  }

  /**
   * A broker URL typed as mqtts://user:password@host:port: the URL without "user:password@",
   * and the user name and password it held (decoded), so the dialog moves them into the
   * User name field and the Password credential and the password never stays in the flow.
   */
  function splitBrokerUrl(url) {
    var m = /^(\s*[A-Za-z][A-Za-z0-9+.-]*:\/\/)([^/?#@\s]*)@(.*)$/.exec(String(url || ""));
    if (!m) return { url: String(url || ""), username: "", password: "" };
    var info = m[2];
    var colon = info.indexOf(":");
    var user = colon >= 0 ? info.slice(0, colon) : info;
    var password = colon >= 0 ? info.slice(colon + 1) : "";
    try {
      user = decodeURIComponent(user);
      password = decodeURIComponent(password);
    } catch {
      // Left as typed: a stray % is part of the password.
    }
    return { url: m[1] + m[3], username: user, password: password };
  }

  /** Applies splitBrokerUrl to the dialog's URL field, filling User name (when empty) and Password. */
  function moveBrokerUrlCredentials($url, $username, $password) {
    var parts = splitBrokerUrl($url.val());
    if (parts.url === String($url.val() || "")) return;
    $url.val(parts.url);
    if (parts.username && !$username.val()) $username.val(parts.username);
    if (parts.password) $password.val(parts.password);
  }

  global.MerossEditor = {
    splitBrokerUrl: splitBrokerUrl,
    moveBrokerUrlCredentials: moveBrokerUrlCredentials,
    isPicked: isPicked,
    onConfigChange: onConfigChange,
    errorText: errorText,
    postJSON: postJSON,
    brokerDevices: brokerDevices,
    pickList: pickList,
    outletOf: outletOf,
    channelOf: channelOf,
  };
})(window, jQuery, RED);
