"""Needs & services page: a user's chain beside the truth, variant switch, filterable error table."""

from apptest import run_page, texts


def test_page_with_nothing_built_offers_a_build(tmp_store):
    at = run_page("views/needs_services.py")
    assert "Nothing of **needs** is built" in texts(at)


def test_user_chain_variants_and_error_table(smoke_store):
    at = run_page("views/needs_services.py")
    chain = at.dataframe[0].value
    assert chain["stage"].tolist() == ["1 · need", "2 · category", "3 · services (ranked)"]
    assert chain["verdict"].str.contains("right|wrong").all()
    users = at.selectbox(key="ns_user").options
    at.text_input(key="ns_search").input(users[3][-3:]).run()
    assert users[3] in at.selectbox(key="ns_user").options
    at.selectbox(key="ns_user").set_value(users[3]).run()
    assert users[3] in texts(at) or at.selectbox(key="ns_user").value == users[3]
    labels = at.selectbox(key="ns_variant").options
    assert {"isolated", "flat", "raw_sft", "clustered_sft", "full"} <= {label.split(" — ")[0] for label in labels}
    for i, label in enumerate(labels):
        at.selectbox(key="ns_variant").select_index(i).run()
        assert not at.exception and not at.error
        assert f"({label.split(' — ')[0]})" in texts(at)
    errors = at.dataframe[2].value
    assert set(errors["failed_stage"]) <= {"need", "category", "service"}
    at.multiselect(key="ns_err_stage").set_value(["service"]).run()
    at.selectbox(key="ns_err_tail").set_value("long-tail only").run()
    errors = at.dataframe[2].value
    assert set(errors["failed_stage"]) <= {"service"} and errors["long_tail"].all()
    at.multiselect(key="ns_err_variants").set_value(["isolated"]).run()
    assert set(at.dataframe[2].value["variant"]) <= {"isolated"}
