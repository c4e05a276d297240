"""The chia flow runtime on Ray.

The public API lives in the submodules, exactly as documented
(``chia.base.ChiaFunction``, ``chia.base.bypass``, ``chia.base.cache``,
``chia.base.pid_registry``, ``chia.base.chia_wait``, ``chia.base.chia_kv_store``,
``chia.base.colocated``, ``chia.base.dispatch_proxy``). This package module imports
nothing, so ``import chia.base.<module>`` only pays for what it uses.
"""

__all__: list[str] = []
