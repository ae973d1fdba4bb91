// validate.js FILE...: every document of every YAML file against the Kubernetes OpenAPI
// schema (npm kubernetes-models 4.5.1: the JSON schemas of Kubernetes 1.27.1's OpenAPI
// spec, checked with ajv). Objects the schema does not cover are checked by hand:
// NetworkAttachmentDefinitions (k8s.cni.cncf.io/v1, Multus: spec.config is CNI JSON),
// the Kustomization (its resources exist). An unknown apiVersion/kind is an error.
// Prints `ok - FILE#N KIND/NAME` or `not ok - ... (why)`; exit 1 if any failed.
"use strict";
const fs = require("fs");
const path = require("path");
const YAML = require("yaml");
const models = require("kubernetes-models");

let failed = 0;
const ok = (what) => console.log(`ok - ${what}`);
const notOk = (what, why) => {
  failed++;
  console.log(`not ok - ${what} (${why})`);
};

function modelFor(apiVersion, kind) {
  const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["", apiVersion];
  const ns = group === "" ? models[version] : models[group] && models[group][version];
  if (!ns && group !== "") {
    // kubernetes-models exports groups by their full name (apps, rbac.authorization.k8s.io).
    try {
      return require(`kubernetes-models/${group}/${version}`)[kind];
    } catch (e) {
      return undefined;
    }
  }
  return ns && ns[kind];
}

function checkNad(obj) {
  const cfg = JSON.parse(obj.spec.config);
  for (const k of ["cniVersion", "name", "type"])
    if (!cfg[k]) throw new Error(`spec.config has no ${k}`);
  const rn = (obj.metadata.annotations || {})["k8s.v1.cni.cncf.io/resourceName"];
  if (!rn || !/^[a-z0-9.-]+\/[A-Za-z0-9_.-]+$/.test(rn))
    throw new Error("no k8s.v1.cni.cncf.io/resourceName annotation (vendor/resource)");
}

for (const file of process.argv.slice(2)) {
  const docs = YAML.parseAllDocuments(fs.readFileSync(file, "utf8"));
  docs.forEach((doc, i) => {
    const where = `${path.basename(file)}#${i}`;
    if (doc.errors.length) return notOk(where, doc.errors[0].message);
    const obj = doc.toJS();
    if (obj === null) return;
    const what = `${where} ${obj.kind}/${(obj.metadata || {}).name || ""}`;
    try {
      if (obj.apiVersion === "k8s.cni.cncf.io/v1" && obj.kind === "NetworkAttachmentDefinition") {
        checkNad(obj);
      } else if (obj.kind === "Kustomization") {
        for (const r of obj.resources || [])
          if (!fs.existsSync(path.join(path.dirname(file), r))) throw new Error(`no resource ${r}`);
      } else {
        const Model = modelFor(obj.apiVersion || "", obj.kind || "");
        if (!Model) throw new Error(`no schema for ${obj.apiVersion} ${obj.kind}`);
        new Model(obj).validate();
      }
      ok(what);
    } catch (e) {
      notOk(what, String(e.message || e).replace(/\s+/g, " ").slice(0, 400));
    }
  });
}
process.exit(failed ? 1 : 0);
