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

  /** "fixed" (also for a node saved before the choice existed) or the typed input's type. */
  function sourceOf(node) {
    return node.deviceSource === "msg" || node.deviceSource === "flow" || node.deviceSource === "global" ? node.deviceSource : "fixed";
  }

  /** The `validate` of a node's device property: a config is needed only for a fixed device. */
  function deviceValid(node, id) {
    if (sourceOf(node) !== "fixed") return true;
    return isPicked(id) && !!RED.nodes.node(id);
  }

  /** What an unnamed node's label says about its device: the config's name, or "msg.device". */
  function deviceLabel(node) {
    if (sourceOf(node) !== "fixed") return sourceOf(node) + "." + (node.deviceProperty || "device");
    var d = node.device && RED.nodes.node(node.device);
    return (d && (d.name || d.host)) || "";
  }

  /**
   * Leaves in the dialog's device list only the devices that can do what this node does, as far as
   * the runtime knows their abilities (a device not reached since the deploy stays: we cannot tell).
   * The device already chosen always stays. Marks the list data-meross-filtered when done.
   */
  function filterDevices($select, kind, keep) {
    $.getJSON("meross-config/kinds")
      .done(function (res) {
        var kinds = (res && res.kinds) || {};
        $select.find("option").each(function () {
          var id = $(this).attr("value");
          var k = kinds[id];
          if (id !== keep && Array.isArray(k) && k.indexOf(kind) < 0) $(this).remove();
        });
      })
      .always(function () {
        $select.attr("data-meross-filtered", "1");
      });
  }

  /**
   * The Device row of a dialog that acts on one device: "fixed device" (the config picker, filtered
   * to devices that fit `kind`) or "from the message" (a msg/flow/global property, msg.device by
   * default). Stores the choice in the hidden deviceSource/deviceProperty inputs Node-RED saves.
   */
  function deviceSource(node, kind) {
    var t = function (key) {
      return node._(node.type + ".deviceSource." + key);
    };
    var $device = $("#node-input-device");
    var $fixedRow = $device.closest(".form-row");
    var $label = $fixedRow.children("label").first();
    var $choiceRow = $("<div class='form-row meross-device-source-row'>").insertBefore($fixedRow);
    $label.clone().attr("for", "meross-device-source").appendTo($choiceRow);
    $label.html("&nbsp;");
    var $choice = $("<select id='meross-device-source' style='width:70%'>")
      .append($("<option value='fixed'>").text(t("fixed")))
      .append($("<option value='message'>").text(t("message")))
      .appendTo($choiceRow);
    var $msgRow = $("<div class='form-row meross-device-message-row'>").insertAfter($fixedRow);
    $("<label for='node-input-deviceProperty'>&nbsp;</label>").appendTo($msgRow);
    var $prop = $("<input type='text' id='node-input-deviceProperty' style='width:70%'>").appendTo($msgRow);
    var $type = $("<input type='hidden' id='meross-device-property-type'>").appendTo($msgRow);
    var $saved = $("<input type='hidden' id='node-input-deviceSource'>").appendTo($msgRow);
    $("<div class='form-tips meross-device-message-tip'>").text(t("tip")).appendTo($msgRow);
    var source = sourceOf(node);
    $type.val(source === "fixed" ? "msg" : source);
    $prop.val(node.deviceProperty || "device");
    $prop.typedInput({ default: "msg", types: ["msg", "flow", "global"], typeField: $type });
    $choice.val(source === "fixed" ? "fixed" : "message");
    function sync() {
      var fixed = $choice.val() === "fixed";
      $fixedRow.toggle(fixed);
      $msgRow.toggle(!fixed);
      $saved.val(fixed ? "fixed" : $prop.typedInput("type"));
    }
    $choice.on("change", sync);
    $prop.on("change", sync);
    sync();
    filterDevices($device, kind, node.device);
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
    deviceSource: deviceSource,
    deviceValid: deviceValid,
    deviceLabel: deviceLabel,
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
