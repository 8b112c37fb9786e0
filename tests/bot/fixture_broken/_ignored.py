raise RuntimeError("modules starting with _ are not plugins")
