"""SD-card image layout: an MBR with the FAT firmware partition, the ext4 root and our data partition.

Everything works on image files with sfdisk, mkfs.vfat/mtools, mke2fs and dd, so building a
layout needs no loop devices. Sizes are in 512-byte sectors unless a name says MiB.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

SECTOR = 512
MIB = 1024 * 1024 // SECTOR
ALIGN = 4 * MIB  # Raspberry Pi OS starts its first partition at 4 MiB
FAT_LBA = "c"
LINUX = "83"
DATA_LABEL = "EVSEDATA"


@dataclass(frozen=True)
class Partition:
    start: int
    size: int
    type: str

    @property
    def end(self) -> int:
        return self.start + self.size


@dataclass(frozen=True)
class Table:
    label_id: str
    partitions: tuple[Partition, ...]


def run(*cmd: str | Path, **kw: object) -> subprocess.CompletedProcess[str]:
    """Run a tool and fail with its own message: a half-written image is worse than none."""
    done = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, **kw)  # type: ignore[call-overload]
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, cmd))}: {done.stderr.strip() or done.stdout.strip()}")
    return done


def align_up(sectors: int, to: int = ALIGN) -> int:
    return -(-sectors // to) * to


def read_table(image: Path) -> Table:
    table = json.loads(run("sfdisk", "--json", image).stdout)["partitiontable"]
    if table.get("label") != "dos":
        raise ValueError(f"{image}: expected an MBR (dos) partition table, found {table.get('label')}")
    parts = tuple(Partition(p["start"], p["size"], p["type"]) for p in table["partitions"])
    return Table(table["id"], parts)


def write_table(image: Path, table: Table) -> None:
    """Write the table, keeping the disk identifier: cmdline.txt and fstab name PARTUUIDs from it."""
    lines = ["label: dos", f"label-id: {table.label_id}", "unit: sectors", ""]
    lines += [f"start={p.start}, size={p.size}, type={p.type}" for p in table.partitions]
    run("sfdisk", "--no-reread", "--no-tell-kernel", image, input="\n".join(lines) + "\n")


def write_partition(image: Path, part: Partition, fs_image: Path) -> None:
    size = fs_image.stat().st_size
    if size > part.size * SECTOR:
        raise ValueError(f"{fs_image} ({size} bytes) does not fit a {part.size * SECTOR}-byte partition")
    run("dd", f"if={fs_image}", f"of={image}", "bs=4M", "conv=notrunc,sparse", "oflag=seek_bytes",
        f"seek={part.start * SECTOR}", "status=none")


def make_fat(content: Path, out: Path, size_mib: int, label: str) -> Path:
    out.unlink(missing_ok=True)
    run("mkfs.vfat", "-F", "32", "-n", label, "-C", out, str(size_mib * 1024))
    entries = sorted(content.iterdir())
    if entries:
        run("mcopy", "-s", "-p", "-m", "-i", out, *entries, "::", env={**os.environ, "MTOOLS_SKIP_CHECK": "1"})
    return out


def make_ext4(content: Path | None, out: Path, size_mib: int, label: str) -> Path:
    out.unlink(missing_ok=True)
    args: list[str | Path] = ["mke2fs", "-q", "-F", "-t", "ext4", "-L", label, "-E", "root_owner=0:0"]
    if content is not None:
        args += ["-d", content]
    run(*args, out, f"{size_mib}M")
    return out


def tree_mib(path: Path) -> int:
    """Apparent size of a tree in MiB (du), what mke2fs -d will have to hold."""
    return int(run("du", "-s", "--block-size=1M", "--apparent-size", path).stdout.split()[0])


def assemble(image: Path, firmware: Path, root: Path, root_label: str, firmware_label: str,
             firmware_mib: int = 512, root_free_mib: int = 512) -> None:
    """A fresh two-partition card image from a firmware tree and a root tree (the stand-in base)."""
    root_mib = tree_mib(root) * 5 // 4 + root_free_mib
    fat = Partition(ALIGN, firmware_mib * MIB, FAT_LBA)
    ext = Partition(fat.end, align_up(root_mib * MIB), LINUX)
    with tempfile.TemporaryDirectory(dir=image.parent) as tmp:
        fat_img = make_fat(firmware, Path(tmp) / "fat.img", firmware_mib, firmware_label)
        root_img = make_ext4(root, Path(tmp) / "root.img", ext.size // MIB, root_label)
        image.unlink(missing_ok=True)
        with image.open("wb") as f:
            f.truncate(ext.end * SECTOR)
        write_table(image, Table(label_id="0x" + os.urandom(4).hex(), partitions=(fat, ext)))
        write_partition(image, fat, fat_img)
        write_partition(image, ext, root_img)


def add_data_partition(image: Path, root_grow_mib: int, data_mib: int) -> Table:
    """Grow the root partition (room for a second software version) and append the data partition.

    The data partition comes last, so it is the one that grows to fill the card on first boot;
    Raspberry Pi OS skips its own root resize when the root is not the last partition.
    """
    table = read_table(image)
    if len(table.partitions) != 2 or table.partitions[0].type not in ("b", "c", "e") \
            or table.partitions[1].type != LINUX:
        raise ValueError(f"{image}: expected a FAT firmware partition and a Linux root partition")
    fat, root = table.partitions
    root = replace(root, size=align_up(root.size + root_grow_mib * MIB))
    data = Partition(root.end, data_mib * MIB, LINUX)
    with image.open("r+b") as f:
        f.truncate(data.end * SECTOR)
    grown = Table(table.label_id, (fat, root, data))
    write_table(image, grown)
    with tempfile.TemporaryDirectory(dir=image.parent) as tmp:
        write_partition(image, data, make_ext4(None, Path(tmp) / "data.img", data_mib, DATA_LABEL))
    return grown


def pad_to_power_of_two(image: Path) -> int:
    """QEMU's SD card model wants a power-of-two size; the padding is free space at the end."""
    size = image.stat().st_size
    target = 1 << (size - 1).bit_length()
    with image.open("r+b") as f:
        f.truncate(target)
    return target


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python3 -m image.disk", description=__doc__)
    sub = parser.add_subparsers(dest="cmd", required=True)
    standin = sub.add_parser("assemble", help="card image from a firmware tree and a root tree")
    standin.add_argument("firmware", type=Path)
    standin.add_argument("root", type=Path)
    standin.add_argument("out", type=Path)
    standin.add_argument("--root-label", default="RASPIROOT")
    standin.add_argument("--firmware-label", default="RASPIFIRM")
    grow = sub.add_parser("grow", help="grow the root partition and add the data partition; "
                                       "prints the partitions' byte offsets and sizes for the shell")
    grow.add_argument("image", type=Path)
    grow.add_argument("--root-grow-mib", type=int, default=1024)
    grow.add_argument("--data-mib", type=int, default=256)
    pad = sub.add_parser("pad", help="grow an image file to the next power of two (for QEMU)")
    pad.add_argument("image", type=Path)
    show = sub.add_parser("offsets", help="print the partitions' byte offsets and sizes for the shell")
    show.add_argument("image", type=Path)
    args = parser.parse_args(argv)
    if args.cmd == "assemble":
        assemble(args.out, args.firmware, args.root, args.root_label, args.firmware_label)
    elif args.cmd == "pad":
        print(pad_to_power_of_two(args.image))
    else:
        table = add_data_partition(args.image, args.root_grow_mib, args.data_mib) if args.cmd == "grow" \
            else read_table(args.image)
        for name, part in zip(("BOOT", "ROOT", "DATA"), table.partitions, strict=False):
            print(f"{name}_OFFSET={part.start * SECTOR} {name}_SIZE={part.size * SECTOR}")


if __name__ == "__main__":
    main()
