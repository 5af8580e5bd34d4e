"""Demo data: realistic Kenyan ISPs (staff, routers, plans, customers and their history).

`load_demo` fills a database; the generator modules are pure and seeded, so a seed always
produces the same demo.
"""

from easyisp_core.demo.loader import DemoOptions, DemoResult, TenantDemo, load_demo

__all__ = ["DemoOptions", "DemoResult", "TenantDemo", "load_demo"]
