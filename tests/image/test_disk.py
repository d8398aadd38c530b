"""The card layout on small image files: a FAT firmware partition and an ext4 root as in the
official image, then the grown root and the data partition the build adds."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from image.disk import DATA_LABEL, MIB, SECTOR, add_data_partition, assemble, pad_to_power_of_two, read_table

TOOLS = ("sfdisk", "mkfs.vfat", "mcopy", "mke2fs", "debugfs")
pytestmark = pytest.mark.skipif(any(shutil.which(t) is None for t in TOOLS),
                                reason=f"needs {', '.join(TOOLS)} (fdisk, dosfstools, mtools, e2fsprogs)")


def ext4_label(image: Path, start_sector: int) -> str:
    with image.open("rb") as f:
        f.seek(start_sector * SECTOR + 1024 + 0x78)  # the superblock's volume name
        return f.read(16).rstrip(b"\0").decode()


@pytest.fixture
def card(tmp_path: Path) -> Path:
    firmware, root = tmp_path / "firmware", tmp_path / "root"
    (firmware / "overlays").mkdir(parents=True)
    (firmware / "config.txt").write_text("arm_64bit=1\n")
    (firmware / "overlays/x.dtbo").write_bytes(b"\xd0\x0d\xfe\xed")
    (root / "etc").mkdir(parents=True)
    (root / "etc/hostname").write_text("raspberrypi\n")
    image = tmp_path / "card.img"
    assemble(image, firmware, root, "RASPIROOT", "RASPIFIRM", firmware_mib=40, root_free_mib=8)
    return image


def test_assembled_like_the_official_image(card: Path) -> None:
    table = read_table(card)
    fat, root = table.partitions
    assert (fat.start, fat.type, root.type) == (8192, "c", "83")
    assert root.start == fat.end and root.start % (4 * MIB) == 0
    assert ext4_label(card, root.start) == "RASPIROOT"
    listing = subprocess.run(["mdir", "-b", "-i", f"{card}@@{fat.start * SECTOR}", "::/overlays"],
                             capture_output=True, text=True, env={"MTOOLS_SKIP_CHECK": "1", "PATH": "/usr/bin:/bin"})
    assert "x.dtbo" in listing.stdout


def test_root_grows_and_the_data_partition_comes_last(card: Path) -> None:
    before = read_table(card)

    after = add_data_partition(card, root_grow_mib=16, data_mib=8)

    assert after == read_table(card)
    assert after.label_id == before.label_id  # PARTUUIDs in cmdline.txt and fstab stay valid
    fat, root, data = after.partitions
    assert fat == before.partitions[0] and root.start == before.partitions[1].start
    assert root.size >= before.partitions[1].size + 16 * MIB
    assert (data.start, data.size, data.type) == (root.end, 8 * MIB, "83")
    assert card.stat().st_size == data.end * SECTOR
    assert ext4_label(card, data.start) == DATA_LABEL
    assert ext4_label(card, root.start) == "RASPIROOT"  # the old root file system is untouched


def test_only_the_official_two_partition_layout_is_accepted(card: Path) -> None:
    add_data_partition(card, root_grow_mib=4, data_mib=4)
    with pytest.raises(ValueError, match="FAT firmware partition and a Linux root"):
        add_data_partition(card, root_grow_mib=4, data_mib=4)


def test_padding_for_qemu(card: Path) -> None:
    size = pad_to_power_of_two(card)
    assert size == card.stat().st_size and size & (size - 1) == 0
