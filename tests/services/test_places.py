"""Places: the city's districts from seeds, and places elsewhere named in a question."""

import pytest

from assistant.services.places import elsewhere, find_district, places_named

pytestmark = pytest.mark.unit


def test_another_citys_service_is_elsewhere():
    assert elsewhere("深圳的公积金贷款最高能贷多少钱", "澄湾市住房公积金个人住房贷款") == "深圳"
    assert elsewhere("How many points do I need for a Beijing hukou?", "积分落户") == "北京"


def test_a_question_about_this_city_or_a_place_the_guide_names_is_not():
    assert elsewhere("从深圳迁户口到澄湾要什么材料", "户口迁入") == ""
    assert elsewhere("去香港的签注多少钱", "往来港澳通行证 香港 澳门") == ""
    assert elsewhere("江北区婚姻登记处在哪", "江北区婚姻登记处") == ""


def test_guesses_of_the_tagger_outside_its_dictionary_are_not_places():
    assert places_named("孩子要上省一级的公办幼儿园，保教费一个月得多少") == []


@pytest.mark.parametrize("text, zh", [("江北区路灯坏了", "江北区"), ("in Jiangbei District", "江北区"),
                                      ("高新区创新路", "高新区"), ("Hi-tech Zone", "高新区"), ("青溪", "青溪县")])
def test_districts_by_any_of_their_names(text, zh):
    assert find_district(text).zh == zh


def test_no_district():
    assert find_district("人民路12号") is None
