"""`warmfund units import` and `warmfund qr export`: the unit tree in, its codes and posters
out."""

from __future__ import annotations

import os
from pathlib import Path

import click
from flask.cli import with_appcontext

from app.runtime import current_runtime
from app.services.codes import bundles
from app.services.errors import DomainError
from app.services.units import unit_import


@click.group("units")
def units_group() -> None:
    """The unit tree."""


@units_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_appcontext
def units_import(file: Path) -> None:
    """Import units from CSV (UTF-8 or GBK) or XLSX.

    \b
    Header, in Chinese or English, any column order:
      单位编码,单位名称,上级单位,类型[,职工人数]
      code,name,parent_code,kind[,headcount]
    类型: 区总工会 镇总工会 街道总工会 产业基地 基层工会 企业
          (or district town street park grassroots enterprise).
    上级单位 is the parent's code, empty for the top unit. Units not in the file are left
    as they are. The console's 二维码与海报 page offers a template.
    """
    from tqdm import tqdm

    rt = current_runtime()
    try:
        rows = unit_import.read_rows(file.name, file.read_bytes())
        with rt.sessions() as session, tqdm(total=len(rows), unit="unit",
                                            disable=len(rows) < 200) as bar:
            report = unit_import.import_units(session, rows, rt.deps.clock(), bar.update)
    except unit_import.ImportFileError as exc:
        for problem in exc.problems:
            click.echo(problem, err=True)
        click.echo(f"共 {len(exc.problems)} 处问题，未导入任何内容", err=True)
        raise click.exceptions.Exit(1) from exc
    for line in unit_import.summary(report):
        click.echo(line)


@click.group("qr")
def qr_group() -> None:
    """QR codes and posters."""


@qr_group.command("export")
@click.option("--campaign", "campaign_code", required=True, help="Campaign code, e.g. one-yuan.")
@click.option("--out", "out_path", required=True,
              type=click.Path(dir_okay=False, writable=True, path_type=Path))
@click.option("--unit", "unit_code", default=None, help="Only this unit's subtree.")
@with_appcontext
def qr_export(campaign_code: str, out_path: Path, unit_code: str | None) -> None:
    """Every active unit's QR PNG, SVG and poster PDF in a ZIP, in folders following the tree."""
    from tqdm import tqdm

    rt = current_runtime()
    with rt.sessions() as session:
        try:
            campaign, entries = bundles.plan_bundle(session, campaign_code, unit_code)
        except DomainError as exc:
            raise click.ClickException(exc.message) from exc
    font = rt.poster_fonts.find()
    if font is None:
        click.echo("no CJK font found: posters use the viewer's STSong-Light", err=True)
    partial = out_path.with_name(out_path.name + ".part")
    with partial.open("wb") as fh, tqdm(total=len(entries), unit="unit") as bar:
        count = bundles.write_bundle(fh, rt.deps.public_url, campaign, entries, font, bar.update,
                                     workers=os.cpu_count() or 1)
    partial.replace(out_path)
    click.echo(f"wrote {count} units' QR codes and posters to {out_path}")
