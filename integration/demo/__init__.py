"""The demo: a believable bicycle plant (plant.py, `manage.py seed_demo`) and a stand-alone
ERP that receives the outbox (erp_simulator.py, `manage.py erp_simulator`). Not product code:
nothing in the product imports them."""
