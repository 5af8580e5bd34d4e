"""EasyISP site service: the headless process beside the routers (RADIUS, M-Pesa, jobs).

It shares easyisp_core with the console but never imports Qt or the console's code.
"""
