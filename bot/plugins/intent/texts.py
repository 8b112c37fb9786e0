"""Replies of the intent plugin. Never echo a phone number into a group."""

GROUP_ACK = " 已安排顾问私信您，请留意好友/私聊消息～"
GROUP_ACK_PHONE = " 已记下您的号码 {masked}，顾问会尽快联系您。号码请尽量私聊发送哦～"
DM_ACK = "收到！已安排顾问尽快联系您。"
DM_ACK_PHONE = "收到！已记下您的号码 {masked}，顾问会尽快联系您。"
