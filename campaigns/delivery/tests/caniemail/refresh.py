"""Refresh support.json from caniemail's data: `npm pack caniemail && tar xzf caniemail-*.tgz`, then
`python campaigns/delivery/tests/caniemail/refresh.py package/data/caniemail.json feature …`
(the features are the snapshot's own when none are given). Keeps the latest result per client."""

import datetime
import json
import sys
from pathlib import Path

HERE = Path(__file__).parent
CLIENTS = {
    "outlook-windows": ("outlook", "windows"),
    "outlook-com": ("outlook", "outlook-com"),
    "gmail-web": ("gmail", "desktop-webmail"),
    "gmail-ios": ("gmail", "ios"),
    "gmail-android": ("gmail", "android"),
    "apple-mail-macos": ("apple-mail", "macos"),
    "apple-mail-ios": ("apple-mail", "ios"),
}


def main(source: str, *features: str) -> None:
    data = json.loads(Path(source).read_text(encoding="utf-8"))
    target = HERE / "support.json"
    old = json.loads(target.read_text(encoding="utf-8")) if target.exists() else {"features": {}}
    wanted = sorted(set(features) or set(old["features"]))
    by_slug = {f["slug"]: f for f in data["data"]}
    package = json.loads((Path(source).parent.parent / "package.json").read_text(encoding="utf-8"))
    snapshot = {
        "source": f"caniemail.com data from the npm package {package['name']}@{package['version']} (data/caniemail.json)",
        "data_updated": data["last_update_date"],
        "retrieved": datetime.date.today().isoformat(),
        "clients": {
            name: f"{family} {platform}, latest tested version" for name, (family, platform) in CLIENTS.items()
        },
        "features": {},
    }
    for slug in wanted:
        feature = by_slug[slug]
        supports, marks = {}, set()
        for name, (family, platform) in CLIENTS.items():
            versions = feature["stats"].get(family, {}).get(platform)
            if versions:
                value = versions[list(versions)[-1]]
                supports[name] = value
                marks.update(m.lstrip("#") for m in value.split()[1:])
        notes = {k: v for k, v in (feature.get("notes_by_num") or {}).items() if k in marks}
        snapshot["features"][slug] = {
            "title": feature["title"],
            "url": feature["url"],
            "support": supports,
            "notes": notes,
        }
    target.write_text(json.dumps(snapshot, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main(*sys.argv[1:])
