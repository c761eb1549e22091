"""`gridgov grid …` (grids: import, export, stats, locate, versions) and `gridgov component …`."""

import json
import sys
from enum import StrEnum
from pathlib import Path

import typer
from rich.table import Table

from gridgov.audit.rules import SYSTEM_ACTOR
from gridgov.cli import app, console, database, domain_errors_exit_2, fail, parse_instant
from gridgov.config import get_settings
from gridgov.errors import InvalidInput
from gridgov.grid import components, service
from gridgov.grid.crs import CRS
from gridgov.grid.rules import GridLevel

grid_app = typer.Typer(help="网格（街道、社区、基础网格、单元网格）", no_args_is_help=True)
app.add_typer(grid_app, name="grid")
component_app = typer.Typer(help="部件（井盖、路灯、垃圾箱、行道树……）", no_args_is_help=True)
app.add_typer(component_app, name="component")

EXPORT_DECIMALS = 7  # what is stored: an export imports back unchanged


def _read(path: Path) -> bytes:
    if not path.is_file():
        fail(f"文件不存在：{path}")
    return path.read_bytes()


def _write(text: str, out: Path | None) -> None:
    if out is None:
        sys.stdout.write(text)
        sys.stdout.write("\n")
    else:
        out.write_text(text, encoding="utf-8")


@grid_app.command("import")
@domain_errors_exit_2
def import_grid(
    path: Path,
    level: GridLevel = typer.Option(..., "--level", help="层级：street / community / basic / unit"),
    crs: CRS | None = typer.Option(None, "--crs", help="文件未注明坐标系时必须指定"),
    effective_at: str | None = typer.Option(None, "--effective-at", help="生效时间（ISO 8601，带时区）"),
) -> None:
    """导入一个层级的全部网格（GeoJSON），成为新的网格版本；有任何错误则整体不导入并列出所有错误。"""
    collection = service.parse_geojson(_read(path))
    with database().write() as db:
        result = service.import_level(db, actor=SYSTEM_ACTOR, level=level, collection=collection,
                                      crs=crs, effective_at=parse_instant(effective_at) if effective_at else None,
                                      source_name=path.name)
    console.print(
        f"已导入{result.level.label}：版本 {result.version}，共 {result.cells:,} 个"
        f"（新增 {result.added:,}，变更 {result.changed:,}，未变 {result.unchanged:,}，"
        f"注销 {result.retired:,}）", highlight=False)
    if result.components_relocated:
        console.print(f"重新定位部件 {result.components_relocated:,} 个", highlight=False)
    if result.orphaned_codes:
        shown = "、".join(result.orphaned_codes[:10])
        more = " 等" if len(result.orphaned_codes) > 10 else ""
        console.print(f"[yellow]注意：[/yellow]{len(result.orphaned_codes):,} 个下级网格的上级已不在"
                      f"现行网格中（{shown}{more}），请接着导入下级层级", highlight=False)


@grid_app.command("export")
@domain_errors_exit_2
def export_grid(
    level: GridLevel = typer.Option(..., "--level", help="层级：street / community / basic / unit"),
    out: Path | None = typer.Option(None, "--out", help="输出文件；省略时写到标准输出"),
    crs: CRS = typer.Option(CRS.GCJ02, "--crs", help="输出坐标系"),
    parent_code: str | None = typer.Option(None, "--parent-code", help="只导出该上级之内的网格"),
) -> None:
    """把一个层级的现行网格导出为 GeoJSON（7 位小数，注明坐标系，可直接再导入）。"""
    with database().read() as db:
        rows = service.list_cells(db, level=level, parent_code=parent_code)
        collection = service.feature_collection(rows, crs=crs, decimals=EXPORT_DECIMALS)
        collection["grid_version"] = service.current_version(db)
        collection["level"] = level.value
    _write(json.dumps(collection, ensure_ascii=False, separators=(",", ":")), out)
    if out is not None:
        console.print(f"已导出 {len(rows):,} 个{level.label}到 {out}", highlight=False)


@grid_app.command("stats")
@domain_errors_exit_2
def stats() -> None:
    """各层级现行网格的数量与面积。"""
    with database().read() as db:
        result = service.stats(db)
    tz = get_settings().tz
    table = Table(title=f"网格统计（网格版本 {result.grid_version}）")
    for column, justify in (("层级", "left"), ("数量", "right"), ("面积 km²", "right"),
                            ("平均 m²", "right"), ("版本", "right"), ("生效时间", "left")):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for level in result.levels:
        mean = f"{level.area_m2 / level.count:,.0f}" if level.count else "—"
        effective = level.effective_at.astimezone(tz).strftime("%Y-%m-%d %H:%M") \
            if level.effective_at else "—"
        table.add_row(level.level.label, f"{level.count:,}", f"{level.area_m2 / 1e6:,.2f}", mean,
                      str(level.version or "—"), effective)
    console.print(table)


@grid_app.command("locate")
@domain_errors_exit_2
def locate(
    lng: float, lat: float,
    crs: CRS = typer.Option(CRS.GCJ02, "--crs", help="输入坐标系"),
) -> None:
    """一个位置所在的单元网格、基础网格、社区、街道。不在管辖范围内：退出码 2。"""
    with database().read() as db:
        found = service.locate(db, lng=lng, lat=lat, crs=crs)
    console.print(
        f"单元网格 {found.unit_code}  基础网格 {found.basic_code}  社区 {found.community_code}  "
        f"街道 {found.street_code}  （网格版本 {found.grid_version}，GCJ-02 "
        f"{found.lng:.7f}, {found.lat:.7f}）", highlight=False)


@grid_app.command("versions")
@domain_errors_exit_2
def versions() -> None:
    """网格版本（每次导入一个层级为一个版本）。"""
    tz = get_settings().tz
    table = Table(title="网格版本")
    for column in ("版本", "层级", "生效时间", "数量", "新增", "变更", "注销", "来源", "操作人"):
        table.add_column(column)
    with database().read() as db:
        for v in service.list_versions(db):
            table.add_row(str(v.id), GridLevel(v.level).label,
                          v.effective_at.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
                          f"{v.cells:,}", f"{v.added:,}", f"{v.changed:,}", f"{v.retired:,}",
                          v.source_name or "", v.actor_name)
    console.print(table)


# --- components --------------------------------------------------------------------------


class ExportFormat(StrEnum):
    GEOJSON = "geojson"
    XLSX = "xlsx"


@component_app.command("import")
@domain_errors_exit_2
def import_components(
    path: Path,
    crs: CRS | None = typer.Option(None, "--crs", help="文件未注明坐标系时必须指定"),
) -> None:
    """导入部件（GeoJSON 点或 Excel .xlsx）：新编码新增、已有编码更新；有任何错误则整体不导入。"""
    content = _read(path)
    if content[:2] == b"PK":
        rows, problems = components.parse_excel(content)
    else:
        rows, problems, declared = components.parse_geojson(service.parse_geojson(content))
        if declared is not None and crs is not None and declared is not crs:
            raise InvalidInput(f"文件声明的坐标系 {declared.value} 与 --crs {crs.value} 矛盾")
        crs = crs or declared
    with database().write() as db:
        result = components.import_components(db, actor=SYSTEM_ACTOR, rows=rows, crs=crs,
                                              parse_problems=problems, source_name=path.name)
    console.print(f"导入完成：新增 {result.created:,}，更新 {result.updated:,}，"
                  f"未变 {result.unchanged:,}", highlight=False)


@component_app.command("export")
@domain_errors_exit_2
def export_components(
    out: Path | None = typer.Option(None, "--out", help="输出文件；GeoJSON 省略时写到标准输出"),
    format: ExportFormat = typer.Option(ExportFormat.GEOJSON, "--format"),
    crs: CRS = typer.Option(CRS.GCJ02, "--crs", help="输出坐标系"),
    class_code: str | None = typer.Option(None, "--class", help="大类（2 位）或小类（4 位）"),
    grid_code: str | None = typer.Option(None, "--grid", help="街道、社区、基础网格或单元网格编码"),
) -> None:
    """导出部件为 GeoJSON 或 Excel（可直接再导入）。"""
    with database().read() as db:
        selected = components.all_components(db, grid_code=grid_code, class_code=class_code)
        if format is ExportFormat.XLSX:
            if out is None:
                fail("导出 Excel 需要 --out 文件名")
            assert out is not None
            out.write_bytes(components.export_excel(selected, crs=crs))
        else:
            _write(json.dumps(components.export_geojson(selected, crs=crs), ensure_ascii=False,
                              separators=(",", ":")), out)
    if out is not None:
        console.print(f"已导出 {len(selected):,} 个部件到 {out}", highlight=False)


@component_app.command("nearest")
@domain_errors_exit_2
def nearest(
    lng: float, lat: float,
    crs: CRS = typer.Option(CRS.GCJ02, "--crs", help="输入坐标系"),
    class_code: str | None = typer.Option(None, "--class", help="大类（2 位）或小类（4 位）"),
    limit: int = typer.Option(5, "--limit", min=1, max=1000),
) -> None:
    """离一个位置最近的部件。"""
    with database().read() as db:
        found = components.nearest(db, lng=lng, lat=lat, crs=crs, major_minor=class_code,
                                   limit=limit)
    table = Table(title="最近的部件")
    for column in ("编码", "名称", "权属单位", "状态", "单元网格", "距离（米）"):
        table.add_column(column)
    for item in found:
        table.add_row(item.code, item.name, item.owner_code or "", item.status.label,
                      item.unit_grid_code or "", f"{item.distance_m:,.1f}")
    console.print(table)
