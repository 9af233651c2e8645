"""The starting service catalogue of DOMAIN.md and the care policies (admins edit both later).

Categories: Beijing's eight (情感慰藉 … 防范金融和网络风险), Qingdao's 五助 (助餐 助浴 助洁 助急 助医),
Shanghai's additions (生活照料: 保洁 洗涤 宠物照料; 生命故事记录; 智能设备指导; 防诈).
Coefficients: 1.0 by default; personal care and bathing 2.0 (as in Japan's Fureai Kippu); accompanying
to hospital 1.5. 助浴 and 生活照料 need an elderly-care (养老护理) certificate, 助医 a medical one (医护).
"""

import datetime as dt
from decimal import Decimal

from django.db import migrations
from django.utils import timezone

CATEGORIES = [
    ("emotional", "情感慰藉", "Emotional support", 1),
    ("assist", "协助服务", "Help at home", 2),
    ("outing", "出行陪伴", "Going out together", 3),
    ("recreation", "文体活动", "Recreation and culture", 4),
    ("health", "健康科普", "Health knowledge", 5),
    ("legal", "法律援助", "Legal aid", 6),
    ("talks", "培训讲座", "Training and talks", 7),
    ("antifraud", "防范金融和网络风险", "Protection from fraud", 8),
    ("five", "五助", "The five helps", 9),
    ("care", "生活照料", "Personal care", 10),
]

# code, category, name, English name, icon, coefficient, minutes, risk, required track
ITEMS = [
    ("chat", "emotional", "聊天陪伴", "Company and a chat", "💬", "1.0", 60, "low", ""),
    ("life_story", "emotional", "生命故事记录", "Recording a life story", "📖", "1.0", 90, "low", ""),
    ("grocery", "assist", "代购买菜", "Grocery shopping", "🛒", "1.0", 60, "low", ""),
    ("laundry", "assist", "洗涤衣物", "Laundry", "👕", "1.0", 60, "low", ""),
    ("pet_care", "assist", "宠物照料", "Pet care", "🐕", "1.0", 45, "low", ""),
    ("outing", "outing", "陪同出行", "Going out together", "🚶", "1.0", 120, "medium", ""),
    ("recreation", "recreation", "文体活动", "Games, songs and exercise", "🎵", "1.0", 90, "low", ""),
    ("health_talk", "health", "健康科普", "Health advice", "🩺", "1.0", 60, "low", ""),
    ("legal_aid", "legal", "法律咨询", "Legal advice", "⚖️", "1.0", 60, "low", ""),
    ("smart_device", "talks", "智能设备指导", "Help with the smartphone", "📱", "1.0", 60, "low", ""),
    ("anti_fraud", "antifraud", "防诈骗提醒", "Protection from scams", "🛡️", "1.0", 45, "low", ""),
    ("meal", "five", "助餐", "Meals", "🍚", "1.0", 45, "low", ""),
    ("bath", "five", "助浴", "Help with bathing", "🛁", "2.0", 60, "high", "elderly"),
    ("cleaning", "five", "助洁", "House cleaning", "🧹", "1.0", 120, "low", ""),
    ("emergency", "five", "助急", "Urgent help", "🚨", "1.0", 60, "medium", ""),
    ("medical", "five", "助医", "Going to the doctor", "🏥", "1.5", 180, "medium", "medical"),
    ("personal_care", "care", "生活照料", "Personal care", "🤝", "2.0", 90, "high", "elderly"),
]

POLICIES = {
    "care.checkin_max_distance_m": 500,
    "care.code_max_failures": 5,
    "care.max_minutes_per_day": 10 * 60,
    "care.guarantee_after_hours": 72,
}


def load(apps, schema_editor):
    Category = apps.get_model("care", "Category")
    Item = apps.get_model("care", "Item")
    ItemVersion = apps.get_model("care", "ItemVersion")
    PolicyValue = apps.get_model("common", "PolicyValue")
    cats = {}
    for code, name, name_en, order in CATEGORIES:
        cats[code], _ = Category.objects.get_or_create(
            code=code, defaults={"name": name, "name_en": name_en, "order": order}
        )
    start = dt.datetime(2020, 1, 1, tzinfo=timezone.get_fixed_timezone(8 * 60))
    for code, cat, name, name_en, icon, coef, minutes, risk, track in ITEMS:
        item, created = Item.objects.get_or_create(
            code=code, defaults={"category": cats[cat], "name": name, "name_en": name_en, "icon": icon}
        )
        if created:
            ItemVersion.objects.create(
                item=item,
                number=1,
                coefficient=Decimal(coef),
                default_minutes=minutes,
                risk=risk,
                required_track=track,
                effective_from=start,
                note="DOMAIN.md starting catalogue",
            )
    for key, value in POLICIES.items():
        PolicyValue.objects.get_or_create(
            key=key, effective_from=dt.date(2020, 1, 1), defaults={"value": value, "note": "DOMAIN.md default"}
        )


class Migration(migrations.Migration):
    dependencies = [("care", "0001_initial"), ("common", "0003_default_policies")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
