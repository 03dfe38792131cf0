// Parsing of Docker's mount forms (-v, --mount, --tmpfs, Config.Volumes,
// image VOLUMEs) into mount requests, and the refusals, with Docker's words.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mountRequests, parseApiMount, parseBind, parseTmpfs } from "../../../../../src/core/engine/containers/mount-specs";
import { MountInvalidError } from "../../../../../src/core/engine/volumes/volume-errors";

test("-v: named volumes, host paths, options, anonymous volumes", () => {
  assert.deepEqual(parseBind("data:/srv/data"), { type: "volume", source: "data", destination: "/srv/data", readOnly: false, mode: "z", noCopy: false, createSource: false });
  assert.deepEqual(parseBind("data:/srv/data/:ro,nocopy"), { type: "volume", source: "data", destination: "/srv/data", readOnly: true, mode: "ro,nocopy", noCopy: true, createSource: false });
  assert.deepEqual(parseBind("/home/me/src:/src:ro"), { type: "bind", source: "/home/me/src", destination: "/src", readOnly: true, mode: "ro", noCopy: false, createSource: true });
  assert.deepEqual(parseBind("/home/me/../me/src:/src:rw,z"), { type: "bind", source: "/home/me/src", destination: "/src", readOnly: false, mode: "rw,z", noCopy: false, createSource: true });
  assert.deepEqual(parseBind("/cache"), { type: "volume", source: "", destination: "/cache", readOnly: false, mode: "", noCopy: false, createSource: false });
});

test("-v refusals: relative destination, '/', too many colons, unknown or conflicting modes, bad names, propagation", () => {
  const refuses = (spec: string, message: RegExp): void =>
    assert.throws(
      () => parseBind(spec),
      (e: unknown) => e instanceof MountInvalidError && message.test(e.message),
      spec,
    );
  refuses("data:relative", /destination "relative" .* is not an absolute path/);
  refuses("data:/", /destination can't be '\/'/);
  refuses("data:/a/..", /destination can't be '\/'/);
  refuses("vol:/b:ro:c", /too many colons/);
  refuses("data:/x:rx", /invalid mode: rx/);
  refuses("data:/x:ro,rw", /invalid mode: ro,rw/);
  refuses("/host:/x:nocopy", /nocopy applies to volumes/);
  refuses("/host:/x:rshared", /private propagation only \(rshared/);
  refuses("a:/x", /volume name is too short/);
  refuses("bad name:/x", /includes invalid characters for a local volume name/);
  refuses("./rel:/x", /includes invalid characters.*use absolute path/);
  refuses("", /invalid volume specification/);
});

test("--mount: volume, bind, tmpfs; and what each may not carry", () => {
  assert.deepEqual(parseApiMount({ Type: "volume", Source: "v1", Target: "/v", ReadOnly: true, VolumeOptions: { NoCopy: true, Labels: { a: "b" } } }), {
    type: "volume",
    source: "v1",
    destination: "/v",
    readOnly: true,
    mode: "",
    noCopy: true,
    createSource: false,
    labels: { a: "b" },
  });
  assert.deepEqual(parseApiMount({ Type: "volume", Target: "/anon" }), { type: "volume", source: "", destination: "/anon", readOnly: false, mode: "", noCopy: false, createSource: false });
  assert.deepEqual(parseApiMount({ Type: "bind", Source: "/h", Target: "/b" }), { type: "bind", source: "/h", destination: "/b", readOnly: false, mode: "", noCopy: false, createSource: false });
  assert.equal(parseApiMount({ Type: "bind", Source: "/h", Target: "/b", BindOptions: { CreateMountpoint: true } }).createSource, true);
  assert.equal(parseApiMount({ Type: "tmpfs", Target: "/t", TmpfsOptions: { SizeBytes: 1048576, Mode: 0o1777 } }).tmpfsOptions, "nosuid,nodev,size=1048576,mode=1777");
  const refuses = (m: object, message: RegExp): void =>
    assert.throws(
      () => parseApiMount(m),
      (e: unknown) => e instanceof MountInvalidError && message.test(e.message),
      JSON.stringify(m),
    );
  refuses({ Type: "volume", Source: "v1" }, /invalid mount config for type "volume": field Target must not be empty/);
  refuses({ Type: "bind", Target: "/b" }, /field Source must not be empty/);
  refuses({ Type: "bind", Source: "rel", Target: "/b" }, /mount path must be absolute/);
  refuses({ Type: "volume", Source: "v1", Target: "/v", VolumeOptions: { DriverConfig: { Name: "nfs" } } }, /volume driver "nfs" is not available/);
  refuses({ Type: "volume", Source: "v1", Target: "/v", VolumeOptions: { DriverConfig: { Options: { type: "nfs" } } } }, /takes no volume driver options/);
  refuses({ Type: "tmpfs", Source: "x", Target: "/t" }, /field Source must not be specified/);
  refuses({ Type: "bind", Source: "/h", Target: "/b", BindOptions: { Propagation: "rslave" } }, /private propagation only/);
  refuses({ Type: "npipe", Source: "x", Target: "/p" }, /mount type "npipe" is not supported/);
});

test("--tmpfs: Docker's defaults first, options passed on only when they look like mount options", () => {
  assert.equal(parseTmpfs("/run", "size=64m,mode=1777").tmpfsOptions, "nosuid,nodev,noexec,size=64m,mode=1777");
  assert.equal(parseTmpfs("/run/", "ro").readOnly, true);
  assert.throws(() => parseTmpfs("/run", "size=1m;reboot"), /invalid tmpfs options for \/run/);
  assert.throws(() => parseTmpfs("/run", "size=1m $(x)"), /invalid tmpfs options/);
});

test("all forms together: user mounts win over anonymous ones at the same place; duplicates and wrong shapes are refused", () => {
  const requests = mountRequests(
    { Volumes: { "/cache": {}, "/data": {} } },
    { Binds: ["named:/data"], Mounts: [{ Type: "tmpfs", Target: "/tmp" }], Tmpfs: { "/run": "" } },
    { "/data": {}, "/var/lib/app": {} },
  );
  assert.deepEqual(
    requests.map((r) => `${r.type} ${r.source} ${r.destination}`),
    ["volume named /data", "tmpfs  /tmp", "tmpfs  /run", "volume  /cache", "volume  /var/lib/app"],
  );
  assert.throws(() => mountRequests({}, { Binds: ["a1:/x", "/h:/x/"] }), /Duplicate mount point: \/x/);
  assert.throws(() => mountRequests({}, { Binds: "a1:/x" }), /HostConfig.Binds must be a list of strings/);
  assert.throws(() => mountRequests({}, { Mounts: ["x"] }), /HostConfig.Mounts must be a list of objects/);
  assert.throws(() => mountRequests({}, { Tmpfs: ["/x"] }), /HostConfig.Tmpfs must be a JSON object/);
  assert.throws(() => mountRequests({}, { Tmpfs: { "/x": 5 } }), /tmpfs options for \/x must be a string/);
  assert.deepEqual(mountRequests({ Volumes: null }, { Binds: null, Mounts: null, Tmpfs: null, VolumesFrom: null, VolumeDriver: "" }, null), []);
  assert.throws(() => mountRequests({}, { VolumesFrom: ["other"] }), /does not support --volumes-from yet/);
  assert.throws(() => mountRequests({}, { VolumeDriver: "nfs" }), /Volume driver "nfs" is not available/);
});
